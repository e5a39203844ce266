/**
 * Where the flushes of one metrics service stream begin and end.
 *
 * Envoy's sink turns each stats flush into one list of MetricFamily, every
 * metric stamped with the snapshot's time (MetricsFlusher::flush sets
 * `timestamp_ms` to snapshot_time_ms), each used counter once. With
 * batch_size it sends that list as messages of batch_size families back to
 * back, the last one holding the rest (docs/ENVOY.md "Metrics service
 * sink"). A flush, not a message, is the snapshot the ingest must reason
 * about: the first flush of a cumulative stream is the baseline, and the
 * counter mode is judged by comparing flushes.
 *
 * Rules, per message:
 * - starts a flush: the stream's first message; a message whose snapshot
 *   time differs from the current flush's; a message without a time
 *   (each such message is a flush of its own, as before batching existed);
 *   or one that carries a wasm counter the current flush already carried
 *   (two flushes in one millisecond, e.g. stats_flush_on_admin).
 * - ends its flush (known complete on arrival): a message without a time;
 *   any message while no flush of this stream has spanned two messages
 *   (the sink does not batch, so every message is a whole flush); once one
 *   has, the batch size is the family count of that flush's first message,
 *   and a message with fewer families is the last of its flush. A message
 *   of exactly batch_size families may be followed by more: its flush is
 *   known complete only when the next one starts.
 * Only wasm counter names are remembered (tens per node), not every
 * counter, and at most `maxCounters` of them per flush: a sender that
 * stretches one flush over endless messages cannot grow the set.
 */

export interface FlushPart {
  /** This message begins a new flush. */
  readonly starts: boolean;
  /** This message is known to be the last of its flush. */
  readonly ends: boolean;
}

export const DEFAULT_MAX_FLUSH_COUNTERS = 10_000;

export class FlushSequence {
  private time: string | undefined;
  private messages = 0;
  private firstFamilies = 0;
  private batchSize: number | undefined;
  private readonly counters = new Set<string>();

  constructor(private readonly maxCounters = DEFAULT_MAX_FLUSH_COUNTERS) {}

  /**
   * Places one message: its snapshot time (undefined if it carried none),
   * how many families it held, and the wasm counters in it.
   */
  next(time: string | undefined, families: number, wasmCounters: readonly string[]): FlushPart {
    const starts = this.messages === 0 || time === undefined || time !== this.time || wasmCounters.some((n) => this.counters.has(n));
    if (starts) {
      this.time = time;
      this.messages = 0;
      this.firstFamilies = families;
      this.counters.clear();
    } else if (this.messages === 1) {
      // A flush spans a second message: its first one was a full batch.
      this.batchSize = this.firstFamilies;
    }
    this.messages++;
    for (const name of wasmCounters) if (this.counters.size < this.maxCounters) this.counters.add(name);
    const ends = time === undefined || this.batchSize === undefined || families < this.batchSize;
    return { starts, ends };
  }
}
