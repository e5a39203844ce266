/**
 * The cluster's event log of decisions (docs/REPLICAS.md): the leader
 * appends each decision it records (rollbacks, quarantines, known-good
 * versions, rollout steps and endings) to `<prefix>/events/<term>-<seq>`,
 * in the transaction that stores the decision (fenced on its term), so a
 * decision is in the cluster's log once, written by the replica that made
 * it, and never stored without its entry. Bounded: the
 * oldest go past MAX_EVENTS.
 */
import { type BackgroundReport, runInBackground } from "../background";
import type { EventLog, LoggedEvent } from "../events/event-log";
import type { EtcdConnection } from "./etcd-connection";
import type { EtcdStateStore } from "./etcd-state-store";

const ROOT = "events/";
export const MAX_EVENTS = 1000;
/** What the leader decides; everything else (connects, publishes) is each replica's own. */
const DECISIONS = /^(rollback|breach|breach-held|known-good|quarantine.*|rollout-.+|push-analysis.*)$/;

export interface ClusterEvent {
  readonly replica: string;
  readonly term: string;
  readonly event: LoggedEvent;
}

export class ClusterEvents {
  private written = 0;

  constructor(
    private readonly conn: EtcdConnection,
    private readonly fence: () => string | undefined,
    private readonly state: EtcdStateStore,
    private readonly bg: BackgroundReport,
  ) {}

  /** Mirrors the decisions of the local event log while this replica leads. */
  follow(events: EventLog): void {
    events.on((e) => {
      if (!DECISIONS.test(e.type)) return;
      const term = this.fence();
      if (term === undefined) return;
      runInBackground(this.append(term, e), `recording ${e.type} in the cluster's event log`, this.bg);
    });
  }

  /** The cluster's decisions, oldest first. */
  async list(): Promise<ClusterEvent[]> {
    const r = await this.conn.ns.getAll().prefix(ROOT).sort("Key", "Ascend").strings();
    return Object.values(r).map((v) => JSON.parse(v) as ClusterEvent);
  }

  private async append(term: string, event: LoggedEvent): Promise<void> {
    const key = `${ROOT}${term.padStart(20, "0")}-${String(event.seq).padStart(12, "0")}`;
    const value: ClusterEvent = { replica: this.conn.options.replicaId, term, event };
    // With the state write of the decision when it is still queued (etcd-state-store.ts log).
    await this.state.log(key, value);
    if (++this.written % 100 === 0) await this.trim();
  }

  private async trim(): Promise<void> {
    const keys = await this.conn.ns.getAll().prefix(ROOT).sort("Key", "Ascend").keys();
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_EVENTS))) await this.conn.ns.delete().key(k).exec();
  }
}
