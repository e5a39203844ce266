/**
 * Envoy's histograms as the metrics service sink reads them: each flush
 * takes the interval statistics (the samples recorded since the previous
 * flush) of every used histogram: sample count and sum, the default
 * quantiles and the cumulative count per default bucket
 * (source/common/stats/histogram_impl.cc: HistogramSettingsImpl default
 * buckets, HistogramStatisticsImpl supported quantiles; docs/ENVOY.md
 * "Metrics service sink"). Envoy approximates quantiles with a log-linear
 * histogram (libcircllhist); here they are exact nearest-rank values of the
 * interval's samples, NaN when the interval had none, as Envoy reports.
 */

/** Envoy's default histogram bucket bounds. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
]);

/** Envoy's supported quantiles. */
export const QUANTILES: readonly number[] = Object.freeze([0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1]);

export interface IntervalStatistics {
  readonly name: string;
  readonly sampleCount: number;
  readonly sampleSum: number;
  /** [quantile, value] for each of QUANTILES. */
  readonly quantiles: readonly (readonly [number, number])[];
  /** [upper bound, samples <= bound] for each of DEFAULT_BUCKETS. */
  readonly buckets: readonly (readonly [number, number])[];
}

export class Histogram {
  private interval: number[] = [];
  /** Like Envoy's: used once a value was recorded. */
  used = false;

  constructor(readonly name: string) {}

  record(value: number): void {
    this.interval.push(value);
    this.used = true;
  }

  /** The interval's statistics; starts a new interval. */
  takeInterval(): IntervalStatistics {
    const samples = this.interval.sort((a, b) => a - b);
    this.interval = [];
    const n = samples.length;
    const quantiles = QUANTILES.map((q) => [q, n === 0 ? Number.NaN : (samples[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number)] as const);
    const buckets = DEFAULT_BUCKETS.map((bound) => [bound, samples.filter((v) => v <= bound).length] as const);
    return { name: this.name, sampleCount: n, sampleSum: samples.reduce((a, b) => a + b, 0), quantiles, buckets };
  }
}
