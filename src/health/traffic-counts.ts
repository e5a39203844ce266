/**
 * Failed and total requests (connections for TCP) per filter version and
 * listener, over time: the counts canary analysis compares
 * (canary-analysis.ts). A traffic counter names a listener by its stat
 * prefix only (stat-traffic.ts); the published config says which filters
 * that listener runs, and the serving pipeline which version of each the
 * node receives (ServingPipeline.nodeVersions). So every increase of a
 * listener's counters on a node is counted for each filter version the
 * listener runs on that node.
 *
 * A reading that spans a version change on a node mixes both versions (a
 * flush interval, typically 5 s): the first reading of a node after its
 * version of a filter changed is not counted for that filter.
 *
 * Counts are kept in one-second slots for `retentionMs` (default one hour),
 * for at most `maxVersions` versions per filter (least recently counted out
 * first), so memory does not depend on the request rate.
 *
 * With several replicas, each tells the others what it counted (`onCount`,
 * cluster/traffic-share.ts) and adds theirs (`importCounts`), so canary
 * analysis on the leader compares the whole fleet's traffic.
 */
import type { FailureCounts } from "./canary-analysis";
import type { TrafficIncrease } from "./stat-signals";
import type { TrafficProtocol } from "./stat-traffic";

/** What the counts need of a served listener (config/model.ts ListenerConfig). */
export interface CountedListener {
  readonly kind: "http" | "tcp";
  readonly name: string;
  readonly statPrefix: string;
  /** Filter names, in the order they run. */
  readonly filters: readonly string[];
}

export interface TrafficCountsOptions {
  /** The listeners of the served config. */
  readonly listeners: () => readonly CountedListener[];
  /** What a node runs: filter name -> version key. */
  readonly nodeVersions: (nodeId: string) => ReadonlyMap<string, string>;
  readonly retentionMs?: number;
  readonly maxVersions?: number;
}

/** One count of this replica's own nodes, as other replicas import it. */
export interface CountedTraffic {
  readonly filter: string;
  readonly key: string;
  readonly listener: string;
  /** Milliseconds since the epoch (the slot it falls in). */
  readonly at: number;
  readonly failed: number;
  readonly total: number;
  readonly nodeId: string;
}

export interface VersionCounts extends FailureCounts {
  /** Listeners with requests in the window. */
  readonly listeners: readonly string[];
  /** Nodes counted in the window. */
  readonly nodes: number;
}

const SLOT_MS = 1000;

interface Slot {
  failed: number;
  total: number;
  readonly nodes: Set<string>;
}

/** filter -> version key -> listener -> slot index -> counts. */
type Store = Map<string, Map<string, Map<string, Map<number, Slot>>>>;

export class TrafficCounts {
  private readonly store: Store = new Map();
  /** node -> filter -> the version key of its previous reading. */
  private readonly lastVersion = new Map<string, Map<string, string>>();
  private readonly retentionMs: number;
  private readonly maxVersions: number;
  private writes = 0;
  private readonly observers: Array<(c: CountedTraffic) => void> = [];

  constructor(private readonly o: TrafficCountsOptions) {
    this.retentionMs = o.retentionMs ?? 3_600_000;
    this.maxVersions = o.maxVersions ?? 8;
  }

  /** A TrafficSink: the counter increases of one reading of a node. */
  readonly record = (nodeId: string, increases: readonly TrafficIncrease[], at: number): void => {
    const versions = this.o.nodeVersions(nodeId);
    const settled = this.settled(nodeId, versions);
    for (const inc of increases) {
      const add = inc.counts === "failed" ? { failed: inc.increase, total: 0 } : { failed: 0, total: inc.increase };
      this.count(nodeId, inc.protocol, inc.statPrefix, add, at, versions, settled);
    }
    this.prune(at);
  };

  /**
   * Failures seen elsewhere than in counters, for a listener by name: TCP
   * connections a failed network filter closed (the access log's
   * `wasm_fail_connection` signals). Totals still come from the counters.
   */
  addFailures(nodeId: string, listenerName: string, failed: number, at: number): void {
    const listener = this.o.listeners().find((l) => l.name === listenerName);
    if (!listener) return;
    const versions = this.o.nodeVersions(nodeId);
    this.count(nodeId, listener.kind, listener.statPrefix, { failed, total: 0 }, at, versions, new Set(versions.keys()));
  }

  /**
   * The counts of one filter version from `since` (ms since the epoch) on,
   * summed over `listeners` (default: every listener it was counted on).
   */
  counts(filter: string, versionKey: string, since: number, listeners?: ReadonlySet<string>): VersionCounts {
    const byListener = this.store.get(filter)?.get(versionKey);
    let failed = 0;
    let total = 0;
    const seen: string[] = [];
    const nodes = new Set<string>();
    const from = Math.floor(since / SLOT_MS);
    for (const [listener, slots] of byListener ?? []) {
      if (listeners && !listeners.has(listener)) continue;
      let any = false;
      for (const [index, slot] of slots) {
        if (index < from) continue;
        failed += slot.failed;
        total += slot.total;
        for (const n of slot.nodes) nodes.add(n);
        any ||= slot.total > 0;
      }
      if (any) seen.push(listener);
    }
    return { failed: Math.min(failed, total), total, listeners: seen.sort(), nodes: nodes.size };
  }

  /**
   * Candidate and stable counts on the listeners both were counted on (the
   * comparison is fair only on the same listeners); when the stable has no
   * request on any of them, the candidate's counts on all its listeners.
   */
  compare(filter: string, candidateKey: string, candidateSince: number, stableKey: string, stableSince: number): { candidate: VersionCounts; stable: VersionCounts } {
    const c = this.counts(filter, candidateKey, candidateSince);
    const s = this.counts(filter, stableKey, stableSince);
    const shared = new Set(c.listeners.filter((l) => s.listeners.includes(l)));
    if (shared.size === 0) return { candidate: c, stable: s };
    return { candidate: this.counts(filter, candidateKey, candidateSince, shared), stable: this.counts(filter, stableKey, stableSince, shared) };
  }

  /** Told of every count of this replica's own nodes (not of imported ones). */
  onCount(observer: (c: CountedTraffic) => void): void {
    this.observers.push(observer);
  }

  /** Counts another replica's nodes made (cluster/traffic-share.ts), into the same slots. */
  importCounts(c: Omit<CountedTraffic, "nodeId">, nodes: readonly string[]): void {
    const slot = this.slotAt(c.filter, c.key, c.listener, Math.floor(c.at / SLOT_MS));
    slot.failed += c.failed;
    slot.total += c.total;
    for (const n of nodes) slot.nodes.add(n);
    this.prune(c.at);
  }

  /** Forgets a node's last versions (it disconnected). */
  forget(nodeId: string): void {
    this.lastVersion.delete(nodeId);
  }

  /** Filters whose version on this node is the same as at its previous reading. */
  private settled(nodeId: string, versions: ReadonlyMap<string, string>): Set<string> {
    const last = this.lastVersion.get(nodeId);
    const out = new Set<string>();
    for (const [filter, key] of versions) if (last?.get(filter) === key) out.add(filter);
    this.lastVersion.set(nodeId, new Map(versions));
    return out;
  }

  private count(
    nodeId: string,
    protocol: TrafficProtocol,
    statPrefix: string,
    add: FailureCounts,
    at: number,
    versions: ReadonlyMap<string, string>,
    settled: ReadonlySet<string>,
  ): void {
    const index = Math.floor(at / SLOT_MS);
    for (const listener of this.o.listeners()) {
      if (listener.kind !== protocol || listener.statPrefix !== statPrefix) continue;
      for (const filter of listener.filters) {
        const key = versions.get(filter);
        if (key === undefined || !settled.has(filter)) continue;
        const slot = this.slotAt(filter, key, listener.name, index);
        slot.failed += add.failed;
        slot.total += add.total;
        slot.nodes.add(nodeId);
        for (const o of this.observers) o({ filter, key, listener: listener.name, at, failed: add.failed, total: add.total, nodeId });
      }
    }
  }

  private slotAt(filter: string, key: string, listener: string, index: number): Slot {
    const slots = this.slotsOf(filter, key, listener);
    let slot = slots.get(index);
    if (!slot) {
      slot = { failed: 0, total: 0, nodes: new Set() };
      slots.set(index, slot);
    }
    return slot;
  }

  private slotsOf(filter: string, key: string, listener: string): Map<number, Slot> {
    let versions = this.store.get(filter);
    if (!versions) {
      versions = new Map();
      this.store.set(filter, versions);
    }
    let listeners = versions.get(key);
    if (listeners) versions.delete(key); // re-inserted: most recently counted last
    listeners ??= new Map();
    versions.set(key, listeners);
    if (versions.size > this.maxVersions) {
      const oldest = versions.keys().next().value;
      if (oldest !== undefined) versions.delete(oldest);
    }
    let slots = listeners.get(listener);
    if (!slots) {
      slots = new Map();
      listeners.set(listener, slots);
    }
    return slots;
  }

  /** Drops slots older than the retention, every 1000 readings. */
  private prune(now: number): void {
    if (++this.writes % 1000 !== 0) return;
    const oldest = Math.floor((now - this.retentionMs) / SLOT_MS);
    for (const versions of this.store.values()) {
      for (const listeners of versions.values()) {
        for (const slots of listeners.values()) for (const index of slots.keys()) if (index < oldest) slots.delete(index);
      }
    }
  }
}
