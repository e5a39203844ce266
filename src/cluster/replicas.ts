/**
 * The replicas of the cluster: each writes `<prefix>/replicas/<id>` (its
 * addresses and start time) on its lease and watches the others', so
 * status shows every live replica; a dead one's record goes with its lease.
 */
import type { Watcher } from "etcd3";
import { type BackgroundReport, runInBackground } from "../background";
import type { EtcdConnection } from "./etcd-connection";

const ROOT = "replicas/";

export interface ReplicaRecord {
  readonly id: string;
  readonly xds: string | null;
  readonly admin: string | null;
  /** Its module server (HOST:PORT), where other replicas fetch modules they lack (module-sync.ts). */
  readonly modules?: string | null;
  /** The module server speaks https (`--modules-tls`). */
  readonly modulesTls?: boolean;
  readonly startedAt: string;
  /** The version key its config folder asks for, per filter (compared with the leader's, docs/REPLICAS.md). */
  readonly folder?: Readonly<Record<string, string>>;
}

export class Replicas {
  private readonly known = new Map<string, ReplicaRecord>();
  private readonly listeners: Array<() => void> = [];
  private own: ReplicaRecord;
  private watcher: Watcher | undefined;

  constructor(
    private readonly conn: EtcdConnection,
    private readonly bg: BackgroundReport,
    startedAt: string,
  ) {
    this.own = { id: conn.options.replicaId, xds: null, admin: null, startedAt };
    conn.onLease((lease) => {
      if (lease !== undefined) this.write();
    });
  }

  async start(): Promise<void> {
    const r = await this.conn.ns.getAll().prefix(ROOT).exec();
    for (const kv of r.kvs) this.read(kv.key.toString(), kv.value.toString());
    this.watcher = await this.conn.ns
      .watch()
      .prefix(ROOT)
      .startRevision(String(BigInt(r.header.revision) + 1n))
      .create();
    this.watcher.on("put", (kv) => this.read(kv.key.toString(), kv.value.toString()));
    this.watcher.on("delete", (kv) => {
      this.known.delete(kv.key.toString().slice(ROOT.length));
      this.changed();
    });
    this.watcher.on("error", (err) => this.conn.report(err));
    this.write();
  }

  /** Told after any replica's record changed (this one's included). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The versions this replica's folder asks for (after every publish); written only when they change. */
  announceFolder(folder: Readonly<Record<string, string>>): void {
    if (JSON.stringify(folder) === JSON.stringify(this.own.folder ?? {})) return;
    this.own = { ...this.own, folder };
    this.write();
    this.changed();
  }

  /**
   * Where this replica's folder disagrees with `leader`'s: one line per
   * filter asked for in a different version (or only by one of them).
   */
  disagreements(leader: string): string[] {
    if (leader === this.own.id) return [];
    const theirs = this.known.get(leader)?.folder;
    const mine = this.own.folder;
    if (!theirs || !mine) return [];
    const short = (k: string | undefined) => (k === undefined ? "nothing" : `${k.slice(0, 8)}…${k.slice(-6)}`);
    return [...new Set([...Object.keys(theirs), ...Object.keys(mine)])]
      .filter((f) => theirs[f] !== mine[f])
      .sort()
      .map((f) => `filter "${f}": this replica's folder asks for ${short(mine[f])}, the leader's (${leader}) for ${short(theirs[f])}`);
  }

  /** This replica's addresses, once bound. */
  announce(addresses: { readonly xds: string; readonly admin: string | null; readonly modules: string | null; readonly modulesTls?: boolean }): void {
    this.own = { ...this.own, ...addresses };
    this.write();
  }

  get self(): string {
    return this.own.id;
  }

  /** Every live replica, this one included, by id. */
  list(): ReplicaRecord[] {
    const all = new Map(this.known);
    all.set(this.own.id, this.own);
    return [...all.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  close(): void {
    this.watcher?.cancel().catch(() => {});
  }

  private write(): void {
    const lease = this.conn.currentLease;
    if (lease === undefined) return;
    const put = this.conn.putOnLease(`${ROOT}${this.own.id}`, JSON.stringify(this.own), lease, "this replica's record");
    runInBackground(put, "writing this replica's record to etcd", this.bg);
  }

  private read(key: string, value: string): void {
    try {
      const r = JSON.parse(value) as ReplicaRecord;
      if (typeof r.id !== "string") return;
      this.known.set(key.slice(ROOT.length), r);
      this.changed();
    } catch {
      // A record that is not JSON is not a replica of ours.
    }
  }
}
