/**
 * Learns whether one metrics service stream reports counters as deltas.
 *
 * The control plane cannot see the sink's report_counters_as_deltas, and
 * a counter's first reading looks the same either way. What differs, and
 * what Envoy's sink guarantees (grpc_metrics_service_impl.cc: every flush
 * sends every used counter once, as `value()` or as `delta_` since the
 * previous flush; docs/ENVOY.md "Metrics service sink"):
 * - cumulative: within one stream (one Envoy process) counters never go
 *   down, and a used counter is rarely 0;
 * - deltas: counters that were busy once (start-up: listener and cluster
 *   updates, VM creations) fall back to 0 at the next flush, and most used
 *   counters of an idle interval read 0.
 * Each counter is compared with its own previous reading, by name, whatever
 * message carried it (with batch_size a flush is several messages holding
 * different counters, so consecutive messages share none), and the verdict
 * is taken over a whole flush (flush-sequence.ts says where flushes end):
 * more counters fell than rose → deltas; some rose and none fell →
 * cumulative; at least half of 4 or more counters reading 0 → deltas.
 * Anything else (no change, or a mix, as a scope re-created mid-stream can
 * cause) waits for the next flush, and after `maxUndecided` flushes the
 * stream is taken as cumulative, Envoy's default. A mode given by
 * configuration skips all of this.
 */
import type { CounterMode } from "./counter-tracker";
import type { FlushPart } from "./flush-sequence";

export const DEFAULT_MAX_UNDECIDED = 3;
/** Counters remembered while learning (the rest are still tallied, not compared later). */
export const DEFAULT_MAX_LEARNED_COUNTERS = 100_000;

interface FlushTally {
  counters: number;
  zeros: number;
  rose: number;
  fell: number;
}

const emptyTally = (): FlushTally => ({ counters: 0, zeros: 0, rose: 0, fell: 0 });

/** A message that is a flush of its own (a sink without batch_size). */
export const WHOLE_FLUSH: FlushPart = Object.freeze({ starts: true, ends: true });

export class CounterModeDetector {
  private decided: CounterMode | undefined;
  /** Each counter's latest reading on this stream (only while learning). */
  private readonly last = new Map<string, number>();
  private flushes = 0;
  private tally = emptyTally();
  /** Counters were read since the current flush was last judged. */
  private unjudged = false;

  constructor(
    fixed?: CounterMode,
    private readonly maxUndecided = DEFAULT_MAX_UNDECIDED,
    private readonly maxCounters = DEFAULT_MAX_LEARNED_COUNTERS,
  ) {
    this.decided = fixed;
  }

  get mode(): CounterMode | undefined {
    return this.decided;
  }

  /** Reads one message's counters, placed in its flush; returns the mode once known. */
  observe(counters: ReadonlyMap<string, number>, part: FlushPart = WHOLE_FLUSH): CounterMode | undefined {
    if (this.decided) return this.decided;
    if (part.starts) {
      // The flush before this one is complete: judge what it held if not yet done.
      if (this.unjudged) this.judgeFlush();
      if (this.decided) return this.decided;
      this.flushes++;
      this.tally = emptyTally();
    }
    this.read(counters);
    if (part.ends) this.judgeFlush();
    return this.decided;
  }

  /** Ends learning (the stream closed): judges the last flush; whatever is still undecided is cumulative. */
  settle(): CounterMode {
    if (!this.decided && this.unjudged) this.judgeFlush();
    this.decided ??= "cumulative";
    this.last.clear();
    return this.decided;
  }

  private read(counters: ReadonlyMap<string, number>): void {
    const t = this.tally;
    for (const [name, v] of counters) {
      t.counters++;
      if (v === 0) t.zeros++;
      const before = this.last.get(name);
      if (before !== undefined) {
        if (v > before) t.rose++;
        else if (v < before) t.fell++;
        this.last.set(name, v);
      } else if (this.last.size < this.maxCounters) {
        this.last.set(name, v);
      }
    }
    this.unjudged = true;
  }

  private judgeFlush(): void {
    this.unjudged = false;
    const t = this.tally;
    if (t.counters >= 4 && t.zeros * 2 >= t.counters) this.decided = "delta";
    else if (t.fell > t.rose) this.decided = "delta";
    else if (t.rose > 0 && t.fell === 0) this.decided = "cumulative";
    else if (this.flushes >= this.maxUndecided) this.decided = "cumulative";
    if (this.decided) this.last.clear();
  }
}
