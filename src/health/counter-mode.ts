/**
 * Learns whether one metrics service stream reports counters as deltas.
 *
 * The control plane cannot see the sink's report_counters_as_deltas, and
 * a counter's first reading looks the same either way. What differs, and
 * what Envoy's sink guarantees (grpc_metrics_service_impl.cc: every flush
 * sends every used counter, as `value()` or as `delta_` since the previous
 * flush; docs/ENVOY.md "Getting stats out of Envoy"):
 * - cumulative: within one stream (one Envoy process) counters never go
 *   down, and a used counter is rarely 0;
 * - deltas: counters that were busy once (start-up: listener and cluster
 *   updates, VM creations) fall back to 0 at the next flush, and most used
 *   counters of an idle interval read 0.
 * So, comparing each message with the stream's previous one over all of its
 * counters (not only the wasm ones): more counters fell than rose → deltas;
 * some rose and none fell → cumulative; at least half of 4 or more counters
 * reading 0 → deltas. Anything else (no change, or a mix, as a scope
 * re-created mid-stream can cause) waits for the next message, and after
 * `maxUndecided` messages the stream is taken as cumulative, Envoy's
 * default. A mode given by configuration skips all of this.
 */
import type { CounterMode } from "./counter-tracker";

export const DEFAULT_MAX_UNDECIDED = 3;

export class CounterModeDetector {
  private decided: CounterMode | undefined;
  private previous: Map<string, number> | undefined;
  private seen = 0;

  constructor(
    fixed?: CounterMode,
    private readonly maxUndecided = DEFAULT_MAX_UNDECIDED,
  ) {
    this.decided = fixed;
  }

  get mode(): CounterMode | undefined {
    return this.decided;
  }

  /** Reads one message's counters; returns the mode once known. */
  observe(counters: ReadonlyMap<string, number>): CounterMode | undefined {
    if (this.decided) return this.decided;
    this.seen++;
    this.decided = this.judge(counters);
    if (!this.decided && this.seen >= this.maxUndecided) this.decided = "cumulative";
    this.previous = this.decided ? undefined : new Map(counters);
    return this.decided;
  }

  /** Ends learning (the stream closed): whatever is undecided is cumulative. */
  settle(): CounterMode {
    this.decided ??= "cumulative";
    this.previous = undefined;
    return this.decided;
  }

  private judge(counters: ReadonlyMap<string, number>): CounterMode | undefined {
    let zeros = 0;
    for (const v of counters.values()) if (v === 0) zeros++;
    if (counters.size >= 4 && zeros * 2 >= counters.size) return "delta";
    if (!this.previous) return undefined;
    let rose = 0;
    let fell = 0;
    for (const [name, v] of counters) {
      const before = this.previous.get(name);
      if (before === undefined) continue;
      if (v > before) rose++;
      else if (v < before) fell++;
    }
    if (fell > rose) return "delta";
    if (rose > 0 && fell === 0) return "cumulative";
    return undefined;
  }
}
