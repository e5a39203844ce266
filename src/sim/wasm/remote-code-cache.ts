/**
 * A node's cache of fetched remote Wasm code, keyed by sha256, with the
 * rules and stats of Envoy's createWasm (source/extensions/common/wasm/wasm.cc,
 * Envoy 1.33 and main; docs/ENVOY.md "Remote code cache"), step by step:
 * - not cached: a miss (remote_load_cache_misses); the caller fetches;
 * - cached code: a hit (remote_load_cache_hits); it loads synchronously;
 * - a fetch in progress for the same sha256: counted as a miss, logged
 *   "createWasm: failed to load (in progress)", and the plugin is told it
 *   has no VM for now (Envoy calls its callback with nullptr: the filter
 *   fails closed or open meanwhile); then, as below, since no code is there;
 * - no code and a fetch started less than 10 s ago (a failure, or the
 *   fetch in progress): a negative hit, logged "(cached)", no VM for now;
 * - in every case without code the caller fetches again (Envoy sets the
 *   entry in progress and starts a new fetch). None of these is a NACK by
 *   itself: that depends on nack_on_code_cache_miss (wasm-runtime.ts);
 * - unused entries other than the one asked for expire after 24 h.
 * Stats: wasm.remote_load_cache_hits / _misses / _negative_hits,
 * wasm.remote_load_fetch_successes / _failures, gauge wasm.remote_load_cache_entries.
 */
import type { Clock } from "../../time/clock";
import type { StatsStore } from "../stats/stats-store";

const NEGATIVE_CACHING_MS = 10_000;
const CACHING_TTL_MS = 24 * 3600 * 1000;

interface Entry {
  code: Uint8Array;
  inProgress: boolean;
  useTime: number;
  fetchTime: number;
}

export type CacheLookup =
  | { readonly kind: "hit"; readonly code: Uint8Array }
  /**
   * The caller must fetch and call complete(). `unavailable` lists why the
   * plugin has no VM meanwhile ("in progress", "cached"); empty for a plain miss.
   */
  | { readonly kind: "fetch"; readonly unavailable: readonly ("in progress" | "cached")[] };

export class RemoteCodeCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly stats: StatsStore,
    private readonly clock: Clock,
  ) {
    for (const c of ["cache_hits", "cache_misses", "cache_negative_hits", "fetch_successes", "fetch_failures"]) {
      stats.declareCounter(`wasm.remote_load_${c}`);
    }
    stats.declareGauge("wasm.remote_load_cache_entries");
  }

  /** Looks up `sha256`; "fetch" means the caller must fetch it and call complete(). */
  lookup(sha256: string): CacheLookup {
    const now = this.clock.now();
    for (const [key, e] of this.entries) {
      if (key !== sha256 && now - e.useTime > CACHING_TTL_MS) this.entries.delete(key);
    }
    const result = this.find(sha256, now);
    this.stats.set("wasm.remote_load_cache_entries", this.entries.size);
    return result;
  }

  private find(sha256: string, now: number): CacheLookup {
    const e = this.entries.get(sha256);
    if (!e) {
      this.entries.set(sha256, { code: new Uint8Array(0), inProgress: true, useTime: now, fetchTime: now });
      this.stats.inc("wasm.remote_load_cache_misses");
      return { kind: "fetch", unavailable: [] };
    }
    e.useTime = now;
    const unavailable: ("in progress" | "cached")[] = [];
    if (e.inProgress) {
      this.stats.inc("wasm.remote_load_cache_misses");
      unavailable.push("in progress");
    }
    // An entry in progress has no code: it falls through to the negative check, as in wasm.cc.
    if (e.code.length > 0) {
      this.stats.inc("wasm.remote_load_cache_hits");
      return { kind: "hit", code: e.code };
    }
    if (now - e.fetchTime < NEGATIVE_CACHING_MS) {
      this.stats.inc("wasm.remote_load_cache_negative_hits");
      unavailable.push("cached");
    }
    e.inProgress = true;
    e.fetchTime = now;
    return { kind: "fetch", unavailable };
  }

  /** The fetch for `sha256` finished: the verified code, or empty on failure. */
  complete(sha256: string, code: Uint8Array): void {
    const now = this.clock.now();
    const e = this.entries.get(sha256) ?? { code, inProgress: false, useTime: now, fetchTime: now };
    e.inProgress = false;
    e.code = code;
    this.entries.set(sha256, e);
    this.stats.inc(code.length > 0 ? "wasm.remote_load_fetch_successes" : "wasm.remote_load_fetch_failures");
    this.stats.set("wasm.remote_load_cache_entries", this.entries.size);
  }
}
