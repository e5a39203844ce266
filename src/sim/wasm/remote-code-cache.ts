/**
 * A node's cache of fetched remote Wasm code, keyed by sha256, with the
 * rules and stats of Envoy's createWasm (source/extensions/common/wasm/wasm.cc;
 * ENVOY-NOTES "What Envoy does when a module is bad"):
 * - hit: the code loads synchronously (so a bad module is NACKed);
 * - a fetch in progress for the same sha256: counted as a miss, and the
 *   config is rejected ("Failed to load WASM code (fetch in progress) from <uri>");
 * - a failed fetch is negatively cached for 10 s: rejected with
 *   "Failed to load WASM code (cached) from <uri>"; after that it is fetched again;
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
  | { readonly kind: "in-progress" }
  | { readonly kind: "negative" }
  | { readonly kind: "fetch" };

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
    const e = this.entries.get(sha256);
    let result: CacheLookup;
    if (!e) {
      this.entries.set(sha256, { code: new Uint8Array(0), inProgress: true, useTime: now, fetchTime: now });
      this.stats.inc("wasm.remote_load_cache_misses");
      result = { kind: "fetch" };
    } else {
      e.useTime = now;
      if (e.inProgress) {
        this.stats.inc("wasm.remote_load_cache_misses");
        result = { kind: "in-progress" };
      } else if (e.code.length > 0) {
        this.stats.inc("wasm.remote_load_cache_hits");
        result = { kind: "hit", code: e.code };
      } else if (now - e.fetchTime < NEGATIVE_CACHING_MS) {
        this.stats.inc("wasm.remote_load_cache_negative_hits");
        result = { kind: "negative" };
      } else {
        e.inProgress = true;
        e.fetchTime = now;
        result = { kind: "fetch" };
      }
    }
    this.stats.set("wasm.remote_load_cache_entries", this.entries.size);
    return result;
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
