/**
 * An xDS-only simulated Envoy: the simulator's ADS client (src/sim/xds,
 * which speaks, ACKs and NACKs as Envoy's GrpcMuxImpl does, or as its delta
 * mux with api_type DELTA_GRPC) driven through
 * Envoy's start-up subscription sequence (docs/SIMULATOR.md, "xDS"):
 * CDS wildcard, then EDS for the EDS clusters, then once those arrived LDS
 * wildcard, then for the listeners ECDS (config_discovery filter names) and
 * RDS (route_config_name), ACKing every response. Listeners are read with
 * the simulator's own reader (readListener), so the names it subscribes to
 * are the ones a SimNode would.
 *
 * Its connection is a grpc-js channel (`grpc`, what the simulator uses) or
 * Node's http2 directly (`h2`, h2-channel.ts: the same client code and
 * messages, without grpc-js's per-channel and per-call machinery).
 *
 * What it leaves out of a full SimNode: the cluster, route and ECDS
 * managers, warming, stats and the admin API, so that with thousands of
 * nodes on the machine that also runs the server, the clients' share of
 * the CPU is the protocol's (decode, ACK), not the simulator's modelling.
 */
import * as grpc from "@grpc/grpc-js";
import type { Cluster__Output } from "../../src/generated/envoy/config/cluster/v3/Cluster";
import type { Listener__Output } from "../../src/generated/envoy/config/listener/v3/Listener";
import type { Any__Output } from "../../src/generated/google/protobuf/Any";
import { silentLogger } from "../../src/logger";
import { decodeMessage, messageNameOf } from "../../src/proto/registry";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { realClock } from "../../src/sim";
import { listenerDependencies, readListener } from "../../src/sim/config/listener-spec";
import { nodeMessage } from "../../src/sim/node-identity";
import { StatsStore } from "../../src/sim/stats/stats-store";
import { WasmRuntime } from "../../src/sim/wasm/wasm-runtime";
import { DeltaXdsClient } from "../../src/sim/xds/delta-xds-client";
import { type ApplyResult, type XdsApi, XdsClient } from "../../src/sim/xds/xds-client";
import { H2Channel } from "./h2-channel";

/** How a node connects: a grpc-js channel, or Node's http2 (h2-channel.ts). */
export type ClientTransport = "grpc" | "h2";

export interface NodeHooks {
  /** The node wrote an ACK of `version` for `typeUrl`. */
  onAck(typeUrl: string, version: string): void;
  onResponse(typeUrl: string): void;
  onNack(typeUrl: string): void;
}

// Only listeners with inline wasm would use it; with `enabled: false` it loads nothing.
let sharedWasm: WasmRuntime | undefined;
function wasmOff(): WasmRuntime {
  sharedWasm ??= new WasmRuntime({
    enabled: false,
    stats: new StatsStore(),
    clock: realClock,
    random: Math.random,
    logger: silentLogger,
    properties: {},
    resolveCluster: () => undefined,
    onPluginLoaded: () => {},
  });
  return sharedWasm;
}

export class XdsOnlyNode {
  private readonly client: grpc.Client | H2Channel;
  private readonly xds: XdsClient | DeltaXdsClient;
  private edsWanted = new Set<string>();
  private ldsStarted = false;

  constructor(id: string, target: string, hooks: NodeHooks, xdsApi: XdsApi = "sotw", transport: ClientTransport = "grpc") {
    // Its own subchannel pool: its own HTTP/2 connection, as separate Envoys have.
    this.client =
      transport === "h2"
        ? new H2Channel(target)
        : new grpc.Client(target, grpc.credentials.createInsecure(), {
            "grpc.use_local_subchannel_pool": 1,
            "grpc.max_receive_message_length": -1,
          });
    const Client = xdsApi === "delta" ? DeltaXdsClient : XdsClient;
    this.xds = new Client({
      // The ADS client calls makeBidiStreamRequest and uses the call's data/status events, write and cancel:
      // H2Channel offers exactly that slice of a grpc-js Client (the options type names the whole class).
      client: this.client as grpc.Client,
      node: nodeMessage({ id, cluster: "bench" }),
      clock: realClock,
      random: Math.random,
      logger: silentLogger,
      callbacks: {
        apply: (typeUrl, resources) => this.apply(typeUrl, resources),
        onResponse: (r) => hooks.onResponse(r.typeUrl),
        onRequest: (r) => {
          if (r.errorDetail) hooks.onNack(r.typeUrl);
          else if (r.responseNonce) hooks.onAck(r.typeUrl, r.versionInfo);
        },
      },
    });
  }

  start(): void {
    this.xds.start();
    this.xds.interest(TYPE_URLS.cluster, "*");
  }

  stop(): void {
    this.xds.stop();
    this.client.close();
  }

  private apply(typeUrl: string, resources: readonly Any__Output[]): ApplyResult {
    switch (typeUrl) {
      case TYPE_URLS.cluster: {
        const eds = resources
          .map((r) => decodeMessage<Cluster__Output>(messageNameOf(r.type_url), r.value))
          .filter((c) => c.type === "EDS")
          .map((c) => c.eds_cluster_config?.service_name || c.name);
        this.edsWanted = new Set(eds);
        this.xds.interest(TYPE_URLS.endpoint, eds);
        if (eds.length === 0) this.startLds();
        return { ok: true };
      }
      case TYPE_URLS.endpoint: {
        // The cluster manager is initialized once every EDS cluster has its assignment.
        if (resources.length >= this.edsWanted.size) this.startLds();
        return { ok: true };
      }
      case TYPE_URLS.listener: {
        const ecds = new Set<string>();
        const rds = new Set<string>();
        for (const r of resources) {
          const listener = decodeMessage<Listener__Output>(messageNameOf(r.type_url), r.value);
          const deps = listenerDependencies(readListener(r.value, listener, wasmOff()));
          for (const e of deps.ecds) ecds.add(e.name);
          if (deps.rds) rds.add(deps.rds.name);
        }
        this.xds.interest(TYPE_URLS.extensionConfig, [...ecds]);
        this.xds.interest(TYPE_URLS.route, [...rds]);
        return { ok: true };
      }
      default:
        return { ok: true };
    }
  }

  private startLds(): void {
    if (this.ldsStarted) return;
    this.ldsStarted = true;
    this.xds.interest(TYPE_URLS.listener, "*");
  }
}
