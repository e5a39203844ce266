/**
 * N simulated Envoys in one process, each with its own identity, gRPC
 * channel and ADS stream. Per-node options (cluster, metadata, locality,
 * ...) come from a function of the node's index, so a fleet can be split
 * into groups that a rollout selects. Node i serves its admin API on
 * adminBasePort + i when a base port is given.
 */
import { Emitter } from "../emitter";
import { WasmxdsError } from "../errors";
import type { Random } from "./backoff";
import type { Clock } from "../time/clock";
import type { Logger } from "../logger";
import type { SimNodeEvent } from "./node-events";
import type { NodeLocality } from "./node-identity";
import type { SimNodeOptions } from "./node-options";
import { SimNode } from "./sim-node";
import type { SimTlsOptions } from "./tls";
import type { XdsApi } from "./xds/ads-stream-client";
import type { MetricsServiceOptions } from "./stats/metrics-service-sink";
import { type FleetSummary, summarize } from "./summary";
import type { TrafficOptions } from "./traffic/traffic-driver";

export interface SimFleetOptions {
  readonly nodes: number;
  /** Node ids are `<idPrefix><index>`; default "sim-". */
  readonly idPrefix?: string;
  readonly xdsAddress?: string;
  /** Several control-plane replicas: node i connects to xdsAddresses[i % length] (overrides xdsAddress). */
  readonly xdsAddresses?: readonly string[];
  readonly cluster?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly locality?: NodeLocality;
  /** Node i serves admin on adminBasePort + i; unset: no admin ports. */
  readonly adminBasePort?: number;
  readonly metricsService?: boolean | MetricsServiceOptions;
  readonly traffic?: TrafficOptions;
  readonly wasm?: boolean;
  /** Every node's Envoy host disk and environment (wasm/host-disk.ts). */
  readonly host?: SimNodeOptions["host"];
  readonly initialFetchTimeoutMs?: number;
  /** The bootstrap's control-plane cluster (default xds_cluster): served access logs to it reach the xDS address. */
  readonly controlPlaneCluster?: string;
  /** TLS (mTLS with cert and key) to the control plane for every node; perNode can give each its own certificate. */
  readonly tls?: SimTlsOptions;
  /** The xDS variant every node speaks: "sotw" (default) or "delta" (Envoy's api_type DELTA_GRPC). */
  readonly xdsApi?: XdsApi;
  /** Overrides for node `index` (applied over the fleet-wide options). */
  readonly perNode?: (index: number) => Partial<SimNodeOptions>;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
}

export class SimFleet {
  readonly nodes: readonly SimNode[];
  /** Every node's events. */
  readonly events = new Emitter<SimNodeEvent>();

  constructor(o: SimFleetOptions) {
    if (!Number.isInteger(o.nodes) || o.nodes < 1) throw new WasmxdsError("USAGE", `nodes: expected a positive integer, got ${o.nodes}`);
    if (o.adminBasePort !== undefined && o.adminBasePort + o.nodes - 1 > 65535) {
      throw new WasmxdsError("USAGE", `admin base port ${o.adminBasePort} leaves no room for ${o.nodes} nodes below 65536`);
    }
    const prefix = o.idPrefix ?? "sim-";
    this.nodes = Array.from({ length: o.nodes }, (_, i) => {
      const node = new SimNode({
        id: `${prefix}${i}`,
        cluster: o.cluster,
        metadata: o.metadata,
        locality: o.locality,
        xdsAddress: o.xdsAddresses && o.xdsAddresses.length > 0 ? o.xdsAddresses[i % o.xdsAddresses.length] : o.xdsAddress,
        adminPort: o.adminBasePort === undefined ? undefined : o.adminBasePort + i,
        metricsService: o.metricsService,
        traffic: o.traffic,
        wasm: o.wasm,
        host: o.host,
        initialFetchTimeoutMs: o.initialFetchTimeoutMs,
        controlPlaneCluster: o.controlPlaneCluster,
        tls: o.tls,
        ...(o.xdsApi && { xdsApi: o.xdsApi }),
        clock: o.clock,
        random: o.random,
        logger: o.logger,
        ...o.perNode?.(i),
      });
      node.events.on((e) => this.events.emit(e));
      return node;
    });
  }

  node(id: string): SimNode | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  async start(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  summary(): FleetSummary {
    return summarize(this.nodes.map((n) => n.summary()));
  }
}
