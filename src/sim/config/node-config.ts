/**
 * The configuration half of a simulated Envoy: applies each xDS type and
 * drives the subscription sequence Envoy follows at start-up (Envoy docs
 * "Initialization"; docs/ENVOY.md "ECDS"):
 * 1. CDS (wildcard) first;
 * 2. EDS for the EDS clusters CDS returned;
 * 3. once every cluster has warmed (cluster manager initialized), LDS (wildcard);
 * 4. for the listeners: ECDS for config_discovery filters (http and network),
 *    and RDS for the HttpConnectionManagers' route_config_names;
 * 5. the server is LIVE when LDS answered and the listeners warmed.
 * Each step also gives up after its initial fetch timeout (15 s by default).
 */
import type { Any__Output } from "../../generated/google/protobuf/Any";
import type { Logger } from "../../logger";
import { TYPE_URLS } from "../../vocabulary/type-urls";
import type { Random } from "../backoff";
import type { Clock, TimerHandle } from "../../time/clock";
import type { StatsStore } from "../stats/stats-store";
import type { SimHost } from "../wasm/host-disk";
import { WasmRuntime } from "../wasm/wasm-runtime";
import type { ApplyResult } from "../xds/xds-client";
import { ClusterManager } from "./cluster-manager";
import { EcdsRegistry } from "./ecds-registry";
import { ListenerManager } from "./listener-manager";
import { listenerDependencies } from "./listener-spec";
import { RouteTable } from "./route-table";

export interface NodeConfigOptions {
  readonly stats: StatsStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** Load and run wasm code (default); false passes wasm filters through without loading anything. */
  readonly wasm: boolean;
  readonly properties: Readonly<Record<string, string>>;
  /** The Envoy host's disk and environment for wasm code (wasm/host-disk.ts). */
  readonly host?: SimHost;
  /** Initial fetch timeout for CDS and LDS (the bootstrap's cds_config / lds_config); default 15 s. */
  readonly initialFetchTimeoutMs: number;
  /** Tells the xDS client what to watch. */
  interest(typeUrl: string, names: readonly string[] | "*"): void;
}

export type ServerState = "PRE_INITIALIZING" | "INITIALIZING" | "LIVE";

export class NodeConfig {
  readonly clusters: ClusterManager;
  readonly routes: RouteTable;
  readonly ecds: EcdsRegistry;
  readonly listeners: ListenerManager;
  readonly wasm: WasmRuntime;
  private state: ServerState = "PRE_INITIALIZING";
  private ldsStarted = false;
  private readonly timers: TimerHandle[] = [];
  private readonly rdsTimers = new Map<string, TimerHandle>();

  constructor(private readonly o: NodeConfigOptions) {
    const { stats, clock } = o;
    this.wasm = new WasmRuntime({
      enabled: o.wasm,
      stats,
      clock,
      random: o.random,
      logger: o.logger,
      properties: o.properties,
      ...(o.host && { host: o.host }),
      resolveCluster: (name) => this.clusters.endpoint(name),
      onPluginLoaded: () => this.listeners.reevaluate(),
    });
    this.clusters = new ClusterManager(stats, clock, {
      edsInterest: (names) => o.interest(TYPE_URLS.endpoint, names),
      changed: () => this.maybeStartLds(),
    });
    this.routes = new RouteTable(stats, (name) => this.listeners.statPrefixOfRoute(name));
    this.ecds = new EcdsRegistry(
      stats,
      clock,
      this.wasm,
      () => this.listeners.reevaluate(),
      (kind, name) => this.listeners.warmingRefersTo(kind, name),
    );
    this.listeners = new ListenerManager(stats, clock, this.wasm, this.routes, this.ecds, () => this.refresh());
    stats.declareGauge("server.state");
  }

  get serverState(): ServerState {
    return this.state;
  }

  start(): void {
    this.setState("INITIALIZING");
    this.o.interest(TYPE_URLS.cluster, "*");
    this.after(this.o.initialFetchTimeoutMs, () => this.clusters.cdsTimedOut());
  }

  apply(typeUrl: string, resources: readonly Any__Output[]): ApplyResult {
    switch (typeUrl) {
      case TYPE_URLS.cluster:
        return this.clusters.applyCds(resources);
      case TYPE_URLS.endpoint:
        return this.clusters.applyEds(resources);
      case TYPE_URLS.listener:
        return this.listeners.apply(resources);
      case TYPE_URLS.route: {
        const watched = new Set(this.rdsNames());
        const result = this.routes.apply(resources, watched);
        if (!result.ok) this.routes.rejected(watched);
        this.listeners.reevaluate();
        return result;
      }
      case TYPE_URLS.extensionConfig: {
        const result = this.ecds.apply(resources);
        if (!result.ok) this.ecds.rejected();
        return result;
      }
      default:
        return { ok: true };
    }
  }

  close(): void {
    for (const t of [...this.timers, ...this.rdsTimers.values()]) t.cancel();
    this.wasm.close();
    this.listeners.close();
    this.ecds.close();
  }

  private after(ms: number, fn: () => void): void {
    if (ms > 0) this.timers.push(this.o.clock.setTimeout(fn, ms));
  }

  private maybeStartLds(): void {
    if (this.ldsStarted || !this.clusters.initialized) return;
    this.ldsStarted = true;
    this.o.interest(TYPE_URLS.listener, "*");
    this.after(this.o.initialFetchTimeoutMs, () => this.listeners.ldsTimedOut());
  }

  private rdsNames(): string[] {
    return [...new Set(this.listeners.all().flatMap((l) => (l.http?.rds ? [l.http.rds.name] : [])))];
  }

  /** Re-derives the ECDS and RDS subscriptions from the listeners held, and the server state. */
  private refresh(): void {
    const all = this.listeners.all();
    this.ecds.setReferences(all.flatMap((l) => listenerDependencies(l).ecds));
    this.o.interest(TYPE_URLS.extensionConfig, this.ecds.names());
    const rds = new Map(all.flatMap((l) => (l.http?.rds ? [[l.http.rds.name, l.http.rds.initialFetchTimeoutMs] as const] : [])));
    for (const [name, timer] of this.rdsTimers) {
      if (rds.has(name)) continue;
      timer.cancel();
      this.rdsTimers.delete(name);
      this.routes.forget(name);
    }
    for (const [name, timeout] of rds) {
      if (this.rdsTimers.has(name) || this.routes.isInitialized(name) || timeout <= 0) continue;
      this.rdsTimers.set(
        name,
        this.o.clock.setTimeout(() => {
          this.routes.markInitialized(name, "init_fetch_timeout");
          this.listeners.reevaluate();
        }, timeout),
      );
    }
    this.o.interest(TYPE_URLS.route, [...rds.keys()]);
    if (this.state === "INITIALIZING" && this.clusters.initialized && this.listeners.initialized && this.listeners.warmingCount === 0) {
      this.setState("LIVE");
    }
  }

  private setState(state: ServerState): void {
    this.state = state;
    // Envoy's server.state gauge: 0 live, 1 draining, 2 pre-initializing, 3 initializing.
    this.o.stats.set("server.state", state === "LIVE" ? 0 : state === "PRE_INITIALIZING" ? 2 : 3);
  }
}
