/**
 * Options of a simulated node, validated once and frozen (what an Envoy
 * reads from its bootstrap and command line: node identity, the ADS
 * address, admin port, stats sink and flush interval).
 */
import { WasmxdsError } from "../errors";
import { type Logger, silentLogger } from "../logger";
import { formatHostPort, parseHostPort } from "../net/host-port";
import type { Random } from "./backoff";
import { type Clock, realClock } from "../time/clock";
import type { NodeIdentity, NodeLocality } from "./node-identity";
import { DEFAULT_FLUSH_INTERVAL_MS, type MetricsServiceOptions } from "./stats/metrics-service-sink";
import type { TrafficOptions } from "./traffic/traffic-driver";
import { DEFAULT_CONTROL_PLANE_CLUSTER } from "./stats/access-log-sink";
import type { SimTlsOptions } from "./tls";
import type { XdsApi } from "./xds/ads-stream-client";
import type { SimHost } from "./wasm/host-disk";

export const DEFAULT_XDS_ADDRESS = "127.0.0.1:18000";
export const DEFAULT_NODE_CLUSTER = "wasmxds-sim";

export interface SimNodeOptions {
  readonly id: string;
  /** node.cluster; default "wasmxds-sim". */
  readonly cluster?: string;
  readonly locality?: NodeLocality;
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** HOST:PORT of the ADS server; default 127.0.0.1:18000. */
  readonly xdsAddress?: string;
  /** Serve the admin API on this port (0: any free port). Unset: no admin port. */
  readonly adminPort?: number;
  /** Default 127.0.0.1. */
  readonly adminHost?: string;
  /** Push stats to envoy.service.metrics.v3.MetricsService on the xDS address. */
  readonly metricsService?: boolean | MetricsServiceOptions;
  readonly traffic?: TrafficOptions;
  /**
   * Load and run wasm code as Envoy does (default true). false: wasm filter
   * configs are read but no code is fetched, compiled or run, and the
   * filters are passed through (cheap nodes for xDS benchmarks).
   */
  readonly wasm?: boolean;
  /** The Envoy host's disk (code.local.filename) and environment (host_env_keys); wasm/host-disk.ts. */
  readonly host?: SimHost;
  /** initial_fetch_timeout for CDS and LDS; default 15 s (Envoy's default). */
  readonly initialFetchTimeoutMs?: number;
  /**
   * The bootstrap's static cluster that reaches the control plane (default
   * xds_cluster, as in envoy/bootstrap.yaml): served gRPC access logs to this
   * cluster stream to the xDS address.
   */
  readonly controlPlaneCluster?: string;
  /** The xDS variant, as Envoy's ads_config api_type: "sotw" (GRPC, default) or "delta" (DELTA_GRPC). */
  readonly xdsApi?: XdsApi;
  /** Reach the control plane over TLS (mTLS with cert and key); unset: plaintext. ADS, metrics and access logs share it. */
  readonly tls?: SimTlsOptions;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
}

export interface ResolvedNodeOptions {
  readonly identity: NodeIdentity;
  readonly xdsTarget: string;
  readonly admin: { readonly host: string; readonly port: number } | undefined;
  readonly metrics: Required<MetricsServiceOptions> | undefined;
  readonly traffic: TrafficOptions;
  readonly wasm: boolean;
  readonly host: SimHost | undefined;
  readonly initialFetchTimeoutMs: number;
  readonly controlPlaneCluster: string;
  readonly tls: SimTlsOptions | undefined;
  readonly xdsApi: XdsApi;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
}

function usage(message: string): never {
  throw new WasmxdsError("USAGE", message);
}

export function resolveNodeOptions(o: SimNodeOptions): ResolvedNodeOptions {
  if (!o.id) usage("node id: expected a non-empty string");
  const xds = parseHostPort(o.xdsAddress ?? DEFAULT_XDS_ADDRESS, "xdsAddress");
  if (o.adminPort !== undefined && (!Number.isInteger(o.adminPort) || o.adminPort < 0 || o.adminPort > 65535)) {
    usage(`adminPort: expected a port number, got ${o.adminPort}`);
  }
  const ms = o.metricsService === true ? {} : o.metricsService || undefined;
  const flush = ms?.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  if (ms && (!Number.isFinite(flush) || flush <= 0)) usage(`flushIntervalMs: expected a positive number, got ${flush}`);
  const batchSize = ms?.batchSize ?? 0;
  if (!Number.isInteger(batchSize) || batchSize < 0) usage(`metricsService.batchSize: expected an integer >= 0, got ${batchSize}`);
  const rps = o.traffic?.rps ?? 0;
  if (!Number.isFinite(rps) || rps < 0) usage(`traffic.rps: expected a number >= 0, got ${rps}`);
  const xdsApi = o.xdsApi ?? "sotw";
  if (xdsApi !== "sotw" && xdsApi !== "delta") usage(`xdsApi: expected "sotw" or "delta", got "${String(xdsApi)}"`);
  return Object.freeze({
    identity: Object.freeze({
      id: o.id,
      cluster: o.cluster ?? DEFAULT_NODE_CLUSTER,
      ...(o.locality && { locality: Object.freeze({ ...o.locality }) }),
      ...(o.metadata && { metadata: Object.freeze({ ...o.metadata }) }),
    }),
    xdsTarget: formatHostPort(xds),
    admin: o.adminPort === undefined ? undefined : { host: o.adminHost ?? "127.0.0.1", port: o.adminPort },
    metrics: ms
      ? {
          flushIntervalMs: flush,
          reportCountersAsDeltas: ms.reportCountersAsDeltas ?? false,
          histogramEmitMode: ms.histogramEmitMode ?? "SUMMARY_AND_HISTOGRAM",
          batchSize,
        }
      : undefined,
    traffic: o.traffic ?? { rps: 0 },
    wasm: o.wasm ?? true,
    host: o.host,
    initialFetchTimeoutMs: o.initialFetchTimeoutMs ?? 15_000,
    controlPlaneCluster: o.controlPlaneCluster || DEFAULT_CONTROL_PLANE_CLUSTER,
    tls: o.tls,
    xdsApi,
    clock: o.clock ?? realClock,
    random: o.random ?? Math.random,
    logger: (o.logger ?? silentLogger).child({ node: o.id }),
  });
}
