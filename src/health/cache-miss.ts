/**
 * Remote code over ECDS and Envoy's cache-miss NACK (docs/HEALTH.md, "Remote
 * code over ECDS"; docs/ENVOY.md, "Remote code over ECDS").
 *
 * With `code: remote` over ECDS wasmxds sets vm_config.nack_on_code_cache_miss,
 * so an Envoy that does not have the module yet NACKs the config and starts a
 * fetch from the module server in the background. The NACK text is the one
 * of any failure to create the plugin, so this file tells the two apart from
 * context, per node and filter version:
 *
 * - the first NACK of a remote module the node never loaded is a cache miss
 *   (Envoy always misses on first sight);
 * - a later NACK (of a re-push, or of a module the node loaded before) is a
 *   cache miss only if a fetch for it reaches the module server: the module
 *   URI carries the push's attempt (`?repush=<n>`), and a miss always starts
 *   a fetch of the URI in the config Envoy just rejected, while a module that
 *   fails to load from the cache starts none. With no such fetch within
 *   `fetchGraceMs` the NACK is real and goes to the health monitor.
 *
 * A cache miss is "fetching": no health signal, no quarantine, no rollout
 * gate. Once the module server has served the module for that attempt (or
 * after `fetchWaitMs`, so a failed fetch is tried again), the node moves to
 * the next attempt: its group's ECDS config differs from the NACKed one only
 * in the URI's query, which Envoy does not skip (the ECDS hash skip) and
 * loads from its cache. Attempts are bounded (`maxRepushes`); the NACK of the
 * last one is real. An ACK of a config the node NACKed as a miss is Envoy
 * skipping an identical config, never evidence.
 */
import type { EventLog } from "../events/event-log";
import { Emitter } from "../emitter";
import { shaOfKey } from "../vocabulary/version-key";
import type { Logger } from "../logger";
import { type Clock, type TimerHandle, realClock } from "../time/clock";
import type { ModuleFetch } from "../wasm/module-server";
import type { NackRecord } from "../xds/events";


export interface CacheMissLimits {
  /** Re-pushes per node and filter version; the NACK of the last attempt counts as a NACK. */
  readonly maxRepushes: number;
  /** How long after a NACK a fetch may still start for it to be a cache miss. */
  readonly fetchGraceMs: number;
  /** How long to wait for the module server to serve a fetch before re-pushing anyway. */
  readonly fetchWaitMs: number;
}

export const DEFAULT_CACHE_MISS_LIMITS: CacheMissLimits = Object.freeze({ maxRepushes: 5, fetchGraceMs: 5000, fetchWaitMs: 20_000 });

export interface CacheMissOptions {
  /** The version key of each filter a node runs now. */
  readonly nodeVersions: (nodeId: string) => ReadonlyMap<string, string>;
  readonly events: EventLog;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly limits?: Partial<CacheMissLimits>;
}

interface Waiting {
  readonly attempt: number;
  readonly nack: NackRecord;
  /** Known to be a cache miss (else still waiting for a fetch to start). */
  miss: boolean;
  timer: TimerHandle;
}

interface NodeFilter {
  readonly nodeId: string;
  readonly filter: string;
  readonly key: string;
  readonly sha256: string;
  attempt: number;
  /** Per attempt (the index): when it was first sent to the node (an event sequence number, not a time: order is what matters). */
  readonly sentAt: number[];
  /** Attempts the node NACKed as cache misses. */
  missed: Set<number> | undefined;
  /** The node loaded this module (ACKed a config it had not NACKed). */
  loaded: boolean;
  waiting: Waiting | undefined;
}

/** Fetch times remembered per module and attempt. */
const FETCHES_KEPT = 1024;
/** Versions remembered per node and filter: the current one, and those a rollout or a rollback may switch back to. */
const KEYS_KEPT = 4;

export class CacheMisses {
  /** Per node, per filter, per version key (a few kept, so a transient switch of version does not lose an attempt). */
  private readonly states = new Map<string, Map<string, Map<string, NodeFilter>>>();
  /** Per module and attempt, the sequence number of the last fetch started and served. */
  private readonly fetches = new Map<string, { started: number; served: number }>();
  private seq = 0;
  private readonly clock: Clock;
  private readonly limits: CacheMissLimits;
  /** Cache-miss NACKs seen, and re-pushes made (status and tests). */
  readonly counts = { misses: 0, repushes: 0, realNacks: 0 };
  /** A node's attempt changed: move it to its new group (a push follows). Told after the decision, never during a rebuild. */
  readonly repushes = new Emitter<string>();
  /** A NACK that turned out to be real: the health monitor takes it as a NACK. */
  readonly realNacks = new Emitter<NackRecord>();

  constructor(private readonly o: CacheMissOptions) {
    this.clock = o.clock ?? realClock;
    this.limits = { ...DEFAULT_CACHE_MISS_LIMITS, ...o.limits };
  }

  /** NACKs waiting to be told apart: a cache miss if a fetch for them starts within fetchGraceMs, else real. */
  get undecided(): number {
    let n = 0;
    for (const s of this.all()) if (s.waiting && !s.waiting.miss) n++;
    return n;
  }

  /** The re-push attempt the node gets for the filter (0: the config every node gets). */
  attemptOf(nodeId: string, filter: string): number {
    const key = this.o.nodeVersions(nodeId).get(filter);
    return key === undefined ? 0 : this.attemptFor(nodeId, filter, key);
  }

  /** attemptOf for a version already looked up (the health monitor has the node's versions in hand on every push). */
  attemptFor(nodeId: string, filter: string, key: string): number {
    return this.states.get(nodeId)?.get(filter)?.get(key)?.attempt ?? 0;
  }

  /**
   * An ECDS response carrying remote code over ECDS went to the node, built
   * for `attempt` (default: the node's attempt now). Returns the attempt.
   */
  sent(nodeId: string, filter: string, key: string, attempt?: number): number {
    const s = this.state(nodeId, filter, key);
    const a = attempt ?? s.attempt;
    s.sentAt[a] ??= ++this.seq;
    return a;
  }

  /**
   * The node NACKed an ECDS response that carried this remote version at
   * this attempt. True: it is handled here (a cache miss, or undecided until
   * a fetch shows up); false: an ordinary NACK.
   */
  nacked(nack: NackRecord, filter: string, key: string, attempt: number): boolean {
    const s = this.state(nack.nodeId, filter, key);
    // A NACK of an attempt the node has moved past: its answer is already on the way.
    if (attempt < s.attempt) return true;
    if (attempt >= this.limits.maxRepushes) return false;
    if (s.waiting) return true;
    const since = s.sentAt[attempt] ?? Number.NEGATIVE_INFINITY;
    const miss = (attempt === 0 && !s.loaded) || (this.fetches.get(fetchId(s.sha256, attempt))?.started ?? Number.NEGATIVE_INFINITY) >= since;
    if (miss) {
      this.miss(s, nack, attempt);
      return true;
    }
    // Undecided: a cache miss starts a fetch of this attempt's URI; a broken module starts none.
    s.waiting = { attempt, nack, miss: false, timer: this.clock.setTimeout(() => this.noFetch(s), this.limits.fetchGraceMs) };
    return true;
  }

  /** The node ACKed a response carrying this remote version: evidence, or Envoy skipping a config it NACKed as a miss. */
  acked(nodeId: string, filter: string, key: string, attempt: number): "evidence" | "skip" {
    const s = this.state(nodeId, filter, key);
    if (s.missed?.has(attempt)) return "skip";
    if (!s.loaded && attempt > 0) {
      this.o.events.add("remote-loaded", `node ${nodeId}`, `${plugin(filter, s.sha256)} loaded on ${nodeId} from Envoy's cache after ${attempt} re-push(es)`, { filter, sha256: s.sha256, node: nodeId, attempt });
    }
    s.loaded = true;
    s.waiting?.timer.cancel();
    s.waiting = undefined;
    return "evidence";
  }

  /** The module server saw a request for a module, or served one. */
  fetch(f: ModuleFetch): void {
    const id = fetchId(f.sha256, f.repush);
    const seen = this.fetches.get(id) ?? { started: Number.NEGATIVE_INFINITY, served: Number.NEGATIVE_INFINITY };
    seen[f.phase] = ++this.seq;
    this.fetches.delete(id);
    this.fetches.set(id, seen);
    if (this.fetches.size > FETCHES_KEPT) this.fetches.delete(this.fetches.keys().next().value as string);
    for (const s of this.all()) {
      const w = s.waiting;
      if (!w || s.sha256 !== f.sha256 || w.attempt !== f.repush) continue;
      if (!w.miss) {
        w.timer.cancel();
        s.waiting = undefined;
        this.miss(s, w.nack, w.attempt);
      }
      if (f.phase === "served") this.repushNode(s, "the module server served the module");
    }
  }

  forgetNode(nodeId: string): void {
    for (const keys of this.states.get(nodeId)?.values() ?? []) for (const s of keys.values()) s.waiting?.timer.cancel();
    this.states.delete(nodeId);
  }

  private miss(s: NodeFilter, nack: NackRecord, attempt: number): void {
    const { filter, nodeId } = s;
    s.missed ??= new Set();
    s.missed.add(attempt);
    this.counts.misses++;
    this.o.events.add(
      "remote-fetching",
      `node ${nodeId}`,
      `${plugin(filter, s.sha256)} NACKed by ${nodeId} as a cache miss (attempt ${attempt}): Envoy is fetching the module; wasmxds pushes again once it is served`,
      { filter, sha256: s.sha256, node: nodeId, attempt },
    );
    s.waiting = { attempt, nack, miss: true, timer: this.clock.setTimeout(() => this.repushNode(s, "no fetch was served in time; Envoy fetches again on the next push"), this.limits.fetchWaitMs) };
    const since = s.sentAt[attempt] ?? Number.NEGATIVE_INFINITY;
    if ((this.fetches.get(fetchId(s.sha256, attempt))?.served ?? Number.NEGATIVE_INFINITY) >= since) this.repushNode(s, "the module server had served the module");
  }

  private noFetch(s: NodeFilter): void {
    const { nodeId, filter } = s;
    const w = s.waiting;
    if (!w || w.miss) return;
    s.waiting = undefined;
    this.counts.realNacks++;
    this.o.logger.debug("NACK of remote code with no fetch: the module failed to load from Envoy's cache", { node: nodeId, filter, attempt: w.attempt });
    this.realNacks.emit(w.nack);
  }

  private repushNode(s: NodeFilter, why: string): void {
    const { nodeId, filter } = s;
    const w = s.waiting;
    if (!w?.miss || this.states.get(nodeId)?.get(filter)?.get(s.key) !== s) return;
    w.timer.cancel();
    s.waiting = undefined;
    s.attempt = w.attempt + 1;
    this.counts.repushes++;
    this.o.events.add("remote-repush", "health", `${plugin(filter, s.sha256)} pushed again to ${nodeId} (attempt ${s.attempt}): ${why}`, {
      filter,
      sha256: s.sha256,
      node: nodeId,
      attempt: s.attempt,
    });
    this.repushes.emit(nodeId);
  }

  private state(nodeId: string, filter: string, key: string): NodeFilter {
    let filters = this.states.get(nodeId);
    if (!filters) {
      filters = new Map();
      this.states.set(nodeId, filters);
    }
    let keys = filters.get(filter);
    if (!keys) {
      keys = new Map();
      filters.set(filter, keys);
    }
    const current = keys.get(key);
    if (current) return current;
    // What the node loaded before is known per module, whatever the settings.
    const sha256 = shaOfKey(key);
    let loaded = false;
    for (const k of keys.values()) loaded ||= k.sha256 === sha256 && k.loaded;
    // Created for every node on every new remote version: no map or set until an attempt needs one.
    const s: NodeFilter = { nodeId, filter, key, sha256, attempt: 0, sentAt: [], missed: undefined, loaded, waiting: undefined };
    keys.set(key, s);
    while (keys.size > KEYS_KEPT) {
      const oldest = keys.values().next().value as NodeFilter;
      oldest.waiting?.timer.cancel();
      keys.delete(oldest.key);
    }
    return s;
  }

  private *all(): Iterable<NodeFilter> {
    for (const filters of this.states.values()) for (const keys of filters.values()) yield* keys.values();
  }
}

function fetchId(sha256: string, repush: number): string {
  return `${sha256}|${repush}`;
}

function plugin(filter: string, sha256: string): string {
  return `${filter}@${sha256.slice(0, 8)}`;
}

