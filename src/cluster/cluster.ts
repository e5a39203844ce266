/**
 * One replica's membership of the cluster (docs/REPLICAS.md): the etcd
 * connection and lease, the election, the shared state, the signals
 * channel, the replica records and the cluster's event log, started in
 * that order and handed to the composition root (main.ts), which gives the
 * leadership to the deciding loops and the state to everything that reads
 * it. Without `--etcd-endpoints` none of this exists.
 */
import type { BackgroundReport } from "../background";
import type { EventLog } from "../events/event-log";
import type { Logger } from "../logger";
import type { TrafficCounts } from "../health/traffic-counts";
import type { Clock } from "../time/clock";
import type { NodeInfo } from "../vocabulary/node-info";
import { ClusterEvents } from "./cluster-events";
import { Election, type LeaderRecord } from "./election";
import { type ClusterOptions, EtcdConnection } from "./etcd-connection";
import { EtcdStateStore } from "./etcd-state-store";
import { type ModuleBytes, ModuleSync } from "./module-sync";
import { NodeSignals, type RemoteEvidenceTarget } from "./node-signals";
import { type ReplicaRecord, Replicas } from "./replicas";
import { TrafficShare } from "./traffic-share";

export interface ClusterStatus {
  readonly replica: string;
  readonly etcd: { readonly endpoints: readonly string[]; readonly prefix: string; readonly reachable: boolean; readonly error: string | null };
  readonly leading: boolean;
  readonly leader: LeaderRecord | null;
  readonly replicas: readonly ReplicaRecord[];
  /** Where this replica's config folder disagrees with the leader's (it serves the cluster's rollouts regardless). */
  readonly folderDiffers: readonly string[];
  /** Every node of the fleet and the replica(s) it is connected to. */
  readonly nodes: ReadonlyArray<{ readonly id: string; readonly replicas: readonly string[] }>;
}

export interface ClusterDeps {
  readonly logger: Logger;
  readonly events: EventLog;
  /** This replica's connected node of that id (xds.nodeInfo). */
  readonly nodeInfo: (id: string) => NodeInfo | undefined;
  /** The start time, for the replica record. */
  readonly startedAt: string;
}

export class Cluster {
  private constructor(
    readonly connection: EtcdConnection,
    readonly election: Election,
    readonly state: EtcdStateStore,
    readonly signals: NodeSignals,
    readonly replicas: Replicas,
    readonly decisions: ClusterEvents,
    private readonly logger: Logger,
    private readonly bg: BackgroundReport,
  ) {}

  private traffic: TrafficShare | undefined;

  /** Connects, campaigns and reads the shared state; rejects (ETCD_UNAVAILABLE) when etcd does not answer. */
  static async start(options: ClusterOptions, deps: ClusterDeps): Promise<Cluster> {
    const logger = deps.logger.child({ component: "cluster" });
    const bg: BackgroundReport = { logger, events: deps.events };
    const conn = await EtcdConnection.open(options, logger, bg);
    try {
      const election = new Election(conn, logger, bg);
      const signals = new NodeSignals(conn, deps.nodeInfo, logger, bg);
      const replicas = new Replicas(conn, bg, deps.startedAt);
      await conn.start();
      const state = await EtcdStateStore.open(conn, () => election.fence(), logger, () => election.describeLeader());
      await election.start();
      await replicas.start();
      const decisions = new ClusterEvents(conn, () => election.fence(), state, bg);
      decisions.follow(deps.events);
      const cluster = new Cluster(conn, election, state, signals, replicas, decisions, logger, bg);
      cluster.reportDisagreement(deps.events);
      return cluster;
    } catch (err) {
      conn.crash();
      throw err;
    }
  }

  /** Shares traffic counts with the other replicas, so canary analysis on the leader sees the whole fleet's (traffic-share.ts). */
  async shareTraffic(traffic: TrafficCounts, clock: Clock): Promise<void> {
    this.traffic = new TrafficShare(this.connection, clock, this.logger, this.bg);
    await this.traffic.start(traffic);
  }

  /** Starts reading the other replicas' node records into the health monitor. */
  startSignals(target: RemoteEvidenceTarget): Promise<void> {
    return this.signals.start(target);
  }

  /** The folder's differences from the leader's, now. */
  folderDiffers(): string[] {
    const leader = this.election.leader();
    return leader ? this.replicas.disagreements(leader.replica) : [];
  }

  /**
   * Says loudly (a warning and an event, once per difference) when this
   * replica's config folder asks for other versions than the leader's: the
   * replicas are meant to be deployed identically, and until they are, this
   * one serves the cluster's rollouts, not its folder's.
   */
  private reportDisagreement(events: EventLog): void {
    let last = "";
    const check = () => {
      const diff = this.folderDiffers();
      const key = diff.join("\n");
      if (key === last) return;
      last = key;
      if (diff.length === 0) {
        events.add("replica-config-agrees", "cluster", "this replica's config folder asks for the same versions as the leader's");
        return;
      }
      for (const d of diff) this.logger.warn(`config folder differs from the leader's: ${d}; deploy the same folder to every replica`);
      events.add("replica-config-differs", "cluster", `this replica's config folder differs from the leader's: ${diff.join("; ")}`, { differences: diff });
    };
    this.replicas.onChange(check);
    this.election.onChange(check);
  }

  /** Fetches modules the shared state names from other replicas into `store`. */
  moduleSync(store: ModuleBytes, maxBytes: number, modulesCa?: string): ModuleSync {
    return new ModuleSync(this.replicas, store, this.logger, maxBytes, modulesCa);
  }

  /** Whether etcd answers now (/healthz, status). */
  get reachable(): boolean {
    return this.connection.lastError === undefined && this.connection.leaseAlive();
  }

  /**
   * The /healthz text. Still 200: the replica serves what it has, and a load
   * balancer that dropped every replica while etcd is away would cut the
   * fleet off from the control plane for nothing.
   */
  healthz(): string {
    if (this.reachable) return "ok\n";
    return `ok: serving; etcd unreachable (${this.connection.lastError ?? "lease not confirmed"}): decisions paused\n`;
  }

  status(localNodes: readonly NodeInfo[]): ClusterStatus {
    const o = this.connection.options;
    return {
      replica: o.replicaId,
      etcd: { endpoints: o.endpoints, prefix: o.prefix, reachable: this.reachable, error: this.connection.lastError ?? null },
      leading: this.election.isLeader(),
      leader: this.election.leader() ?? null,
      replicas: this.replicas.list(),
      folderDiffers: this.folderDiffers(),
      nodes: [...this.signals.placement(localNodes)].map(([id, replicas]) => ({ id, replicas })).sort((a, b) => a.id.localeCompare(b.id)),
    };
  }

  /** Leaves the cluster: the lease is revoked, so another replica leads at once. */
  async close(): Promise<void> {
    this.stopWatches();
    await this.state.flush();
    await this.connection.close();
  }

  /** Stops like a killed process: nothing revoked, the lease expires after its TTL (tests). */
  crash(): void {
    this.stopWatches();
    this.connection.crash();
  }

  private stopWatches(): void {
    this.election.stop();
    this.state.close();
    this.signals.close();
    this.replicas.close();
    this.traffic?.close();
  }
}
