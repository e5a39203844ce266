/**
 * CDS and EDS in a simulated node (Envoy's ClusterManagerImpl and
 * CdsApiImpl; Envoy docs "Cluster manager" and "Initialization"):
 * - CDS is state of the world: clusters missing from a response are removed;
 *   a cluster whose bytes are unchanged is left alone.
 * - Bad clusters are rejected one by one, the rest applied, and the update
 *   NACKed with `Error adding/updating cluster(s) <name>: <why>, ...`
 *   (cds_api_helper.cc).
 * - An EDS cluster warms until its ClusterLoadAssignment arrives or its
 *   initial_fetch_timeout (default 15 s) passes.
 * - The cluster manager is initialized once the first CDS response is in
 *   and every cluster from it has warmed; only then does Envoy start LDS.
 */
import type { Cluster__Output } from "../../generated/envoy/config/cluster/v3/Cluster";
import type { ClusterLoadAssignment__Output } from "../../generated/envoy/config/endpoint/v3/ClusterLoadAssignment";
import type { Any__Output } from "../../generated/google/protobuf/Any";
import { decodeMessage } from "../../proto/registry";
import type { Clock, TimerHandle } from "../../time/clock";
import type { StatsStore } from "../stats/stats-store";
import type { ApplyResult } from "../xds/xds-client";
import { type Endpoint, endpointsOf, initialFetchTimeoutMs, clusterErrors } from "./proto-util";
import { type UpstreamTls, upstreamTlsOf } from "./upstream-tls";

interface ClusterState {
  readonly name: string;
  readonly bytes: Buffer;
  readonly type: string;
  /** EDS service name (the cluster name when service_name is empty). */
  readonly edsName: string | undefined;
  endpoints: Endpoint[];
  /** From the transport socket: how requests to the cluster use TLS. */
  readonly tls: UpstreamTls | undefined;
  warming: boolean;
  timer: TimerHandle | undefined;
}

export interface ClusterManagerCallbacks {
  /** The EDS names the node must watch changed. */
  edsInterest(names: readonly string[]): void;
  /** Initialization finished (first time only) or a cluster finished warming. */
  changed(): void;
}

export class ClusterManager {
  private readonly clusters = new Map<string, ClusterState>();
  private readonly assignments = new Map<string, Endpoint[]>();
  private cdsReceived = false;
  private initialized_ = false;

  constructor(
    private readonly stats: StatsStore,
    private readonly clock: Clock,
    private readonly callbacks: ClusterManagerCallbacks,
  ) {
    for (const c of ["update_attempt", "update_success", "update_rejected", "update_failure", "init_fetch_timeout"]) {
      stats.declareCounter(`cluster_manager.cds.${c}`);
    }
    stats.declareGauge("cluster_manager.active_clusters");
    stats.declareGauge("cluster_manager.warming_clusters");
  }

  get initialized(): boolean {
    return this.initialized_;
  }

  has(name: string): boolean {
    const c = this.clusters.get(name);
    return c !== undefined;
  }

  /** Where to send a request for `cluster`: its first endpoint, if it has one, with the cluster's TLS. */
  endpoint(cluster: string): Endpoint | undefined {
    const state = this.clusters.get(cluster);
    const first = state?.endpoints[0];
    return first && state?.tls ? { ...first, tls: state.tls } : first;
  }

  names(): string[] {
    return [...this.clusters.keys()];
  }

  /** CDS initial fetch timeout: initialize without CDS (Envoy logs "initial fetch timed out"). */
  cdsTimedOut(): void {
    if (this.cdsReceived) return;
    this.stats.inc("cluster_manager.cds.init_fetch_timeout");
    this.cdsReceived = true;
    this.checkInitialized();
  }

  applyCds(resources: readonly Any__Output[]): ApplyResult {
    this.stats.inc("cluster_manager.cds.update_attempt");
    const errors: string[] = [];
    const seen = new Set<string>();
    for (const any of resources) {
      let c: Cluster__Output;
      try {
        c = decodeMessage<Cluster__Output>("envoy.config.cluster.v3.Cluster", any.value);
      } catch (err) {
        errors.push(`(unnamed): ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      if (!c.name) {
        errors.push(": Proto constraint validation failed (ClusterValidationError.Name: value length must be at least 1 characters)");
        continue;
      }
      if (seen.has(c.name)) {
        errors.push(`${c.name}: duplicate cluster ${c.name} found`);
        continue;
      }
      seen.add(c.name);
      const problem = this.upsert(c, Buffer.from(any.value));
      if (problem) errors.push(`${c.name}: ${problem}`);
    }
    for (const name of [...this.clusters.keys()]) {
      if (seen.has(name)) continue;
      this.clusters.get(name)?.timer?.cancel();
      this.clusters.delete(name);
      this.stats.inc("cluster_manager.cluster_removed");
    }
    this.cdsReceived = true;
    this.afterChange();
    if (errors.length > 0) {
      this.stats.inc("cluster_manager.cds.update_rejected");
      return { ok: false, message: clusterErrors(errors) };
    }
    this.stats.inc("cluster_manager.cds.update_success");
    this.stats.set("cluster_manager.cds.update_time", this.clock.now());
    return { ok: true };
  }

  applyEds(resources: readonly Any__Output[]): ApplyResult {
    const wanted = new Set(this.edsNames());
    for (const any of resources) {
      const cla = decodeMessage<ClusterLoadAssignment__Output>("envoy.config.endpoint.v3.ClusterLoadAssignment", any.value);
      if (!wanted.has(cla.cluster_name)) continue;
      const endpoints = endpointsOf(cla);
      this.assignments.set(cla.cluster_name, endpoints);
      for (const c of this.clusters.values()) {
        if (c.edsName !== cla.cluster_name) continue;
        this.stats.inc(`cluster.${c.name}.update_attempt`);
        this.stats.inc(`cluster.${c.name}.update_success`);
        this.stats.set(`cluster.${c.name}.membership_total`, endpoints.length);
        c.endpoints = endpoints;
        this.finishWarming(c);
      }
    }
    this.afterChange();
    return { ok: true };
  }

  private upsert(c: Cluster__Output, bytes: Buffer): string | undefined {
    const existing = this.clusters.get(c.name);
    if (existing?.bytes.equals(bytes)) return undefined;
    const type = c.type ?? "STATIC";
    let edsName: string | undefined;
    if (type === "EDS") {
      if (!c.eds_cluster_config?.eds_config) return "cannot create an EDS cluster without an EDS config";
      edsName = c.eds_cluster_config.service_name || c.name;
    }
    let tls: UpstreamTls | undefined;
    try {
      tls = upstreamTlsOf(c);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    existing?.timer?.cancel();
    const state: ClusterState = {
      name: c.name,
      bytes,
      type,
      edsName,
      endpoints: edsName ? (this.assignments.get(edsName) ?? []) : endpointsOf(c.load_assignment),
      tls,
      warming: edsName !== undefined && !this.assignments.has(edsName),
      timer: undefined,
    };
    if (state.warming) {
      const timeout = initialFetchTimeoutMs(c.eds_cluster_config?.eds_config);
      if (timeout > 0) {
        state.timer = this.clock.setTimeout(() => {
          state.timer = undefined;
          if (this.clusters.get(state.name) !== state || !state.warming) return;
          this.stats.inc(`cluster.${state.name}.init_fetch_timeout`);
          this.finishWarming(state);
          this.afterChange();
        }, timeout);
      }
    }
    this.clusters.set(c.name, state);
    this.stats.inc(existing ? "cluster_manager.cluster_modified" : "cluster_manager.cluster_added");
    return undefined;
  }

  private finishWarming(c: ClusterState): void {
    c.warming = false;
    c.timer?.cancel();
    c.timer = undefined;
  }

  private edsNames(): string[] {
    return [...new Set([...this.clusters.values()].flatMap((c) => (c.edsName ? [c.edsName] : [])))];
  }

  private afterChange(): void {
    const all = [...this.clusters.values()];
    const warming = all.filter((c) => c.warming).length;
    this.stats.set("cluster_manager.warming_clusters", warming);
    this.stats.set("cluster_manager.active_clusters", all.length - warming);
    this.callbacks.edsInterest(this.edsNames());
    this.checkInitialized();
    this.callbacks.changed();
  }

  private checkInitialized(): void {
    if (this.initialized_ || !this.cdsReceived) return;
    if ([...this.clusters.values()].some((c) => c.warming)) return;
    this.initialized_ = true;
  }
}
