/**
 * The persisted state (health/state-store.ts) kept in etcd, shared by every
 * replica (docs/REPLICAS.md, "One truth for state"). The same documents as
 * state.json, one key each: `<prefix>/state/filters/<name>` (known-good
 * chain and quarantines) and `<prefix>/state/rollouts/<name>`.
 *
 * Reads come from memory, as with the folder. Only the leader writes: each
 * change is one transaction that puts the documents it changed if each is
 * still at the revision this replica last saw AND the leader key still has
 * this replica's term (fencing). A refused transaction leaves etcd as it
 * was; this replica re-reads it and the caller's promise rejects. Every
 * replica watches the prefix and applies what the leader wrote, then tells
 * its listeners (main rebuilds the snapshots), so a decision reaches every
 * node of every replica.
 */
import type { IKeyValue, Watcher } from "etcd3";
import { deepFreeze } from "../config/freeze";
import { WasmxdsError, errorMessage } from "../errors";
import type { Logger } from "../logger";
import { salvageState } from "../health/state-schema";
import type { FilterState, PersistedState } from "../health/state-model";
import type { StateStore } from "../health/state-store";
import type { EtcdConnection } from "./etcd-connection";
import { LEADER_KEY } from "./election";

const ROOT = "state/";
const KINDS = ["filters", "rollouts"] as const;
type Kind = (typeof KINDS)[number];

export class EtcdStateStore implements StateStore {
  private state: PersistedState;
  /** Mod revision of every document key this replica has seen (absent: the key does not exist). */
  private readonly revs = new Map<string, string>();
  private writing: Promise<void> = Promise.resolve();
  /**
   * Keys with writes of this replica queued or in flight. The watch may
   * report one of them before its transaction's answer: applying it would
   * put back an older value over newer changes already made in memory.
   */
  private readonly inflight = new Map<string, number>();
  /** Entries of the log of decisions waiting for the next write (cluster-events.ts): stored in the same transaction. */
  private readonly pendingLog: Change[] = [];
  private watcher: Watcher | undefined;
  private readonly listeners: Array<(why: string) => void> = [];
  readonly file: string;
  readonly repairs: readonly string[];

  private constructor(
    private readonly conn: EtcdConnection,
    private readonly fence: () => string | undefined,
    private readonly logger: Logger,
    private readonly leader: () => string,
    loaded: { state: PersistedState; problems: readonly string[] },
  ) {
    this.state = deepFreeze(loaded.state);
    this.repairs = loaded.problems;
    this.file = `${conn.where}/${ROOT}`;
  }

  /** Reads the state under the prefix (etcd must answer) and watches it from that revision on. */
  static async open(conn: EtcdConnection, fence: () => string | undefined, logger: Logger, leader: () => string = () => "the leader"): Promise<EtcdStateStore> {
    const where = `${conn.where}/${ROOT}`;
    let kvs: IKeyValue[];
    let revision: string;
    try {
      const r = await conn.ns.getAll().prefix(ROOT).exec();
      kvs = r.kvs;
      revision = String(r.header.revision);
    } catch (err) {
      conn.report(err);
      throw new WasmxdsError("ETCD_UNAVAILABLE", `${where}: cannot read the shared state: ${errorMessage(err)}`, { cause: err });
    }
    const raw: { version: 1; filters: Record<string, unknown>; rollouts: Record<string, unknown> } = { version: 1, filters: {}, rollouts: {} };
    const problems: string[] = [];
    for (const kv of kvs) {
      const doc = parseKey(kv.key.toString());
      if (!doc) continue;
      try {
        raw[doc.kind][doc.name] = JSON.parse(kv.value.toString());
      } catch (err) {
        problems.push(`${where}${doc.kind}/${doc.name}: not valid JSON (${errorMessage(err)}); dropped`);
      }
    }
    const read = salvageState(raw, where);
    for (const p of [...problems, ...read.problems]) logger.warn(`shared state repaired on read: ${p}`);
    const store = new EtcdStateStore(conn, fence, logger, leader, { state: read.state, problems: [...problems, ...read.problems] });
    for (const kv of kvs) store.revs.set(kv.key.toString(), String(kv.mod_revision));
    await store.watch(revision);
    return store;
  }

  get(): PersistedState {
    return this.state;
  }

  filter(name: string): FilterState {
    return this.state.filters[name] ?? { quarantined: [] };
  }

  /** Told after every change another replica (the leader) stored. */
  onChange(listener: (why: string) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Applies the change in memory and stores the documents it changed, fenced
   * on this replica's term; refused at once (memory unchanged) when this
   * replica does not lead.
   */
  update(change: (s: PersistedState) => PersistedState): Promise<void> {
    const term = this.fence();
    if (term === undefined) return Promise.reject(new WasmxdsError("NOT_LEADER", `this replica does not lead the cluster; ask the leader (${this.leader()}); nothing was changed`));
    const before = this.state;
    this.state = deepFreeze(change(before));
    const changed = diff(before, this.state);
    for (const c of changed) this.inflight.set(c.key, (this.inflight.get(c.key) ?? 0) + 1);
    const write = this.writing
      .then(() => this.store(changed, term))
      .finally(() => {
        for (const c of changed) {
          const n = (this.inflight.get(c.key) ?? 1) - 1;
          if (n > 0) this.inflight.set(c.key, n);
          else this.inflight.delete(c.key);
        }
      });
    this.writing = write.catch(() => {});
    return write;
  }

  /**
   * Adds an entry to the log of decisions, in the same transaction as the
   * state change it records when that change is still queued (a decision is
   * then stored with its entry or not at all), else in its own, fenced alike.
   */
  log(key: string, value: unknown): Promise<void> {
    const term = this.fence();
    if (term === undefined) return Promise.resolve();
    this.pendingLog.push({ key, value });
    const write = this.writing.then(() => this.store([], term));
    this.writing = write.catch(() => {});
    return write;
  }

  updateFilter(name: string, change: (f: FilterState) => FilterState): Promise<void> {
    return this.update((s) => ({ ...s, filters: { ...s.filters, [name]: change(s.filters[name] ?? { quarantined: [] }) } }));
  }

  flush(): Promise<void> {
    return this.writing;
  }

  close(): void {
    this.watcher?.cancel().catch(() => {});
  }

  private async store(changes: readonly Change[], term: string): Promise<void> {
    // The event log tells its listeners in a microtask (emitter.ts): let the entry of this decision join it.
    await new Promise((resolve) => setImmediate(resolve));
    const logged = this.pendingLog.splice(0);
    const changed = [...changes, ...logged];
    if (changed.length === 0) return;
    let txn = this.conn.ns.if(LEADER_KEY, "Create", "==", term);
    for (const c of changes) txn = txn.and(c.key, "Mod", "==", this.revs.get(c.key) ?? "0");
    const ops = changed.map((c) => (c.value === undefined ? this.conn.ns.delete().key(c.key) : this.conn.ns.put(c.key).value(JSON.stringify(c.value))));
    let r: Awaited<ReturnType<typeof txn.commit>>;
    try {
      r = await txn.then(...ops).commit();
    } catch (err) {
      this.conn.report(err);
      throw new WasmxdsError("ETCD_UNAVAILABLE", `${this.file}: storing ${changed.map((c) => c.key).join(", ")} failed: ${errorMessage(err)}`, { cause: err });
    }
    this.conn.report(undefined);
    if (!r.succeeded) {
      await this.resync();
      throw new WasmxdsError("NOT_LEADER", `${this.file}: ${changed.map((c) => c.key).join(", ")} not stored: this replica's term ${term} ended or another replica changed them first; re-read the shared state`);
    }
    const revision = String(r.header.revision);
    for (const c of changes) {
      if (c.value === undefined) this.revs.delete(c.key);
      else this.revs.set(c.key, revision);
    }
  }

  /** Replaces memory with what etcd holds (after a refused write). */
  private async resync(): Promise<void> {
    const r = await this.conn.ns.getAll().prefix(ROOT).exec();
    const raw: { version: 1; filters: Record<string, unknown>; rollouts: Record<string, unknown> } = { version: 1, filters: {}, rollouts: {} };
    this.revs.clear();
    for (const kv of r.kvs) {
      const doc = parseKey(kv.key.toString());
      if (!doc) continue;
      try {
        raw[doc.kind][doc.name] = JSON.parse(kv.value.toString());
        this.revs.set(kv.key.toString(), String(kv.mod_revision));
      } catch {
        // Reported at the next open; a bad document is as good as none here.
      }
    }
    this.state = deepFreeze(salvageState(raw, this.file).state);
    this.notify("the shared state was re-read");
  }

  private async watch(revision: string): Promise<void> {
    this.watcher = await this.conn.ns
      .watch()
      .prefix(ROOT)
      .startRevision(String(BigInt(revision) + 1n))
      .create();
    this.watcher.on("put", (kv) => this.applyRemote(kv, false));
    this.watcher.on("delete", (kv) => this.applyRemote(kv, true));
    this.watcher.on("error", (err) => this.conn.report(err));
  }

  private applyRemote(kv: IKeyValue, deleted: boolean): void {
    const key = kv.key.toString();
    const doc = parseKey(key);
    if (!doc) return;
    // Our own write not yet answered (or one queued behind it): memory is newer.
    if (this.inflight.has(key)) return;
    const seen = this.revs.get(key);
    // Our own write (or older): memory has it already.
    if (seen !== undefined && BigInt(seen) >= BigInt(kv.mod_revision)) return;
    let value: unknown;
    if (!deleted) {
      try {
        value = JSON.parse(kv.value.toString());
      } catch (err) {
        this.logger.warn("shared state: a document is not valid JSON; kept what this replica had", { key, error: errorMessage(err) });
        return;
      }
      const raw = { version: 1, filters: {}, rollouts: {}, [doc.kind]: { [doc.name]: value } };
      const read = salvageState(raw, this.file);
      if (read.problems.length > 0) {
        this.logger.warn("shared state: a document is invalid; kept what this replica had", { key, problems: read.problems });
        return;
      }
      value = (read.state[doc.kind] as Record<string, unknown>)[doc.name];
      this.revs.set(key, String(kv.mod_revision));
    } else this.revs.delete(key);
    const part = { ...(this.state[doc.kind] as Record<string, unknown>) };
    if (deleted) delete part[doc.name];
    else part[doc.name] = value;
    this.state = deepFreeze({ ...this.state, [doc.kind]: part } as PersistedState);
    this.notify(`${doc.kind}/${doc.name} changed in etcd`);
  }

  private notify(why: string): void {
    for (const l of this.listeners) l(why);
  }
}

interface Change {
  readonly key: string;
  readonly value: unknown;
}

/** The documents a change touched (new objects for changed entries: every change spreads what it keeps). */
function diff(before: PersistedState, after: PersistedState): Change[] {
  const changed: Change[] = [];
  for (const kind of KINDS) {
    const a = before[kind] as Record<string, unknown>;
    const b = after[kind] as Record<string, unknown>;
    for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (a[name] !== b[name]) changed.push({ key: keyOf(kind, name), value: b[name] });
    }
  }
  return changed;
}

function keyOf(kind: Kind, name: string): string {
  return `${ROOT}${kind}/${encodeURIComponent(name)}`;
}

function parseKey(key: string): { kind: Kind; name: string } | undefined {
  const m = /^state\/(filters|rollouts)\/([^/]+)$/.exec(key);
  return m ? { kind: m[1] as Kind, name: decodeURIComponent(m[2]!) } : undefined;
}
