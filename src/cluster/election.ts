/**
 * Leader election on etcd (docs/REPLICAS.md, "Who decides"): the leader is
 * the replica whose record sits at `<prefix>/leader`, put there only if the
 * key did not exist (a transaction on its create revision) and attached to
 * the replica's lease. The key's create revision is the leader's term: it
 * only grows, and every decision the leader stores is a transaction that
 * also compares `leader`'s create revision with its term (fencing), so a
 * replica that lost its lease, even one that does not know it yet, cannot
 * overwrite a newer leader's decision. When the leader dies, its lease
 * expires after the TTL, etcd deletes the key, and the replicas watching it
 * campaign again: one wins.
 */
import type { Watcher } from "etcd3";
import { type BackgroundReport, runInBackground } from "../background";
import { errorMessage } from "../errors";
import type { Leadership } from "../health/leadership";
import type { Logger } from "../logger";
import type { EtcdConnection } from "./etcd-connection";

export const LEADER_KEY = "leader";

export interface LeaderRecord {
  readonly replica: string;
  /** The leader's admin API, for operators sent to it. */
  readonly admin: string | null;
  /** The create revision of the leader key (decimal string). */
  readonly term: string;
}

export class Election implements Leadership {
  private term: string | undefined;
  private current: LeaderRecord | undefined;
  private watcher: Watcher | undefined;
  private admin: string | null = null;
  private stopped = false;
  private retry: ReturnType<typeof setInterval> | undefined;
  private readonly listeners: Array<(leading: boolean) => void> = [];

  constructor(
    private readonly conn: EtcdConnection,
    private readonly logger: Logger,
    private readonly bg: BackgroundReport,
  ) {}

  get replicaId(): string {
    return this.conn.options.replicaId;
  }

  /** Watches the leader key and campaigns; campaigns again after every lease re-grant. */
  async start(): Promise<void> {
    this.conn.onLease((lease) => {
      if (lease === undefined) this.setTerm(undefined);
      else runInBackground(this.campaign(), "campaigning for leadership", this.bg);
    });
    this.watcher = await this.conn.ns
      .watch()
      .key(LEADER_KEY)
      .create();
    this.watcher.on("delete", () => {
      this.current = undefined;
      this.setTerm(undefined);
      if (!this.stopped) runInBackground(this.campaign(), "campaigning for leadership", this.bg);
    });
    this.watcher.on("put", (kv) => {
      this.current = parseLeader(kv.value.toString(), kv.create_revision);
      if (this.current?.replica !== this.replicaId || this.current.term !== this.term) this.setTerm(undefined);
    });
    this.watcher.on("error", (err) => this.conn.report(err));
    await this.campaign();
    // A replica that does not lead campaigns again every quarter TTL: the campaign is one transaction that
    // either takes the free key or reads the leader, so it also corrects a leader record that a watch event
    // missed while etcd was away (after an outage the old leader's key expires while watches reconnect,
    // and waiting for its delete event left the cluster without a leader). Real time, like the lease.
    this.retry = setInterval(() => {
      if (this.term === undefined && !this.stopped) runInBackground(this.campaign(), "campaigning for leadership", this.bg);
    }, Math.max(200, (this.conn.options.leaseTtlSec * 1000) / 4));
    this.retry.unref();
  }

  /** The admin address other replicas send operators to. */
  setAdmin(admin: string | null): void {
    this.admin = admin;
    const term = this.term;
    const lease = this.conn.grantedLease;
    if (term === undefined || lease === undefined) return;
    // Leading already: the record gains the address (a put keeps the key's create revision, so the term stays).
    const value = JSON.stringify({ replica: this.replicaId, admin });
    const put = this.conn.ns
      .if(LEADER_KEY, "Create", "==", term)
      .then(this.conn.ns.put(LEADER_KEY).value(value).lease(lease))
      .commit()
      .then(() => undefined);
    runInBackground(put, "writing the leader's admin address", this.bg);
  }

  isLeader(): boolean {
    return this.term !== undefined && this.conn.leaseAlive();
  }

  /** The term this replica leads in (the fence of its writes), while it leads. */
  fence(): string | undefined {
    return this.isLeader() ? this.term : undefined;
  }

  leader(): LeaderRecord | undefined {
    return this.current;
  }

  describeLeader(): string {
    const l = this.current;
    if (!l) return "no leader elected now; etcd may be unreachable";
    return `replica ${l.replica}${l.admin ? ` at ${l.admin}` : ""}`;
  }

  /** Told true when this replica starts leading, false when it stops. */
  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.retry);
    this.watcher?.cancel().catch(() => {});
  }

  private async campaign(): Promise<void> {
    // etcd checks the lease itself: a put on an expired one fails.
    const lease = this.conn.grantedLease;
    if (lease === undefined || this.stopped) return;
    const value = JSON.stringify({ replica: this.replicaId, admin: this.admin });
    try {
      const r = await this.conn.ns
        .if(LEADER_KEY, "Create", "==", 0)
        .then(this.conn.ns.put(LEADER_KEY).value(value).lease(lease))
        .else(this.conn.ns.get(LEADER_KEY))
        .commit();
      this.conn.report(undefined);
      if (r.succeeded) {
        const term = String(r.header.revision);
        this.current = { replica: this.replicaId, admin: this.admin, term };
        this.setTerm(term);
        return;
      }
      const kv = r.responses[0]?.response_range?.kvs[0];
      if (kv) this.current = parseLeader(kv.value.toString(), kv.create_revision);
    } catch (err) {
      this.conn.report(err);
      this.logger.debug("campaign failed", { error: errorMessage(err) });
    }
  }

  private setTerm(term: string | undefined): void {
    const was = this.term !== undefined;
    this.term = term;
    const is = term !== undefined;
    if (was === is) return;
    this.logger.info(is ? "this replica leads the cluster" : "this replica no longer leads the cluster", { replica: this.replicaId, term });
    for (const l of this.listeners) l(is);
  }
}

function parseLeader(text: string, createRevision: string): LeaderRecord | undefined {
  try {
    const v = JSON.parse(text) as { replica?: unknown; admin?: unknown };
    if (typeof v.replica !== "string") return undefined;
    return { replica: v.replica, admin: typeof v.admin === "string" ? v.admin : null, term: String(createRevision) };
  } catch {
    return undefined;
  }
}
