/**
 * Envoy's `envoy.stat_sinks.metrics_service` sink
 * (source/extensions/stat_sinks/metrics_service/grpc_metrics_service_impl.cc,
 * Envoy 1.33 and main; docs/ENVOY.md "Metrics service sink"): every flush
 * interval (default 5 s, Envoy's stats_flush_interval) it writes the used
 * stats on a client stream to envoy.service.metrics.v3.MetricsService/StreamMetrics,
 * with the node identifier only on a stream's first message. Each stat is
 * an io.prometheus.client.MetricFamily named by the dotted stat name
 * (emit_tags_as_labels off: the simulator has no tag extraction), counters
 * first, then gauges, then histograms; counters are cumulative, or deltas
 * since the previous flush with report_counters_as_deltas. A histogram is
 * a SUMMARY family (quantiles, count, sum) and a HISTOGRAM family (buckets,
 * count, sum) of the interval since the previous flush, or only one of them
 * per histogram_emit_mode. With batch_size (Envoy 1.37 API) a flush of more
 * families is split into messages of at most that many, the identifier only
 * on the first. A broken stream is replaced at the next flush, starting
 * again with the identifier.
 */
import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "../../logger";
import { encodeMessage } from "../../proto/registry";
import { type Clock, every, type TimerHandle } from "../../time/clock";
import type { StatsStore } from "./stats-store";

export const METRICS_SERVICE_PATH = "/envoy.service.metrics.v3.MetricsService/StreamMetrics";
const MESSAGE = "envoy.service.metrics.v3.StreamMetricsMessage";

/** MetricsServiceConfig.histogram_emit_mode (envoy.config.metrics.v3.HistogramEmitMode). */
export type HistogramEmitMode = "SUMMARY_AND_HISTOGRAM" | "SUMMARY" | "HISTOGRAM";

export interface MetricsServiceOptions {
  /** Envoy's stats_flush_interval; default 5000 ms. */
  readonly flushIntervalMs?: number;
  /** MetricsServiceConfig.report_counters_as_deltas; default false. */
  readonly reportCountersAsDeltas?: boolean;
  /** MetricsServiceConfig.histogram_emit_mode; default SUMMARY_AND_HISTOGRAM. */
  readonly histogramEmitMode?: HistogramEmitMode;
  /** MetricsServiceConfig.batch_size: families per message; 0 (default) sends a flush as one message. */
  readonly batchSize?: number;
}

export const DEFAULT_FLUSH_INTERVAL_MS = 5000;

export class MetricsServiceSink {
  private call: grpc.ClientWritableStream<Buffer> | undefined;
  private timer: TimerHandle | undefined;
  private readonly lastCounter = new Map<string, number>();
  private flushes = 0;

  constructor(
    private readonly client: grpc.Client,
    private readonly stats: StatsStore,
    private readonly node: Record<string, unknown>,
    private readonly options: MetricsServiceOptions,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Messages written so far. */
  get flushCount(): number {
    return this.flushes;
  }

  start(): void {
    this.timer ??= every(this.clock, this.options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS, () => this.flush());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.call?.end();
    this.call = undefined;
  }

  /** One flush now (also what the timer does); returns the messages written. */
  flush(): number {
    const now = this.clock.now();
    const families = [...this.counterAndGaugeFamilies(now), ...this.histogramFamilies(now)];
    const batch = this.options.batchSize ?? 0;
    const batches: Record<string, unknown>[][] = [];
    if (batch <= 0 || families.length <= batch) batches.push(families);
    else for (let i = 0; i < families.length; i += batch) batches.push(families.slice(i, i + batch));
    const first = this.call === undefined;
    const call = this.call ?? this.open();
    batches.forEach((envoy_metrics, i) => {
      const message = first && i === 0 ? { identifier: { node: this.node }, envoy_metrics } : { envoy_metrics };
      call.write(encodeMessage(MESSAGE, message));
      this.flushes++;
    });
    return batches.length;
  }

  /** Used counters, then used gauges, as MetricsFlusher::flush walks the snapshot. */
  private counterAndGaugeFamilies(now: number): Record<string, unknown>[] {
    const counters: Record<string, unknown>[] = [];
    const gauges: Record<string, unknown>[] = [];
    for (const s of this.stats.all()) {
      if (!s.used) continue;
      if (s.type === "counter") {
        const previous = this.lastCounter.get(s.name) ?? 0;
        this.lastCounter.set(s.name, s.value);
        const value = this.options.reportCountersAsDeltas ? s.value - previous : s.value;
        counters.push({ name: s.name, type: "COUNTER", metric: [{ counter: { value }, timestamp_ms: now }] });
      } else {
        gauges.push({ name: s.name, type: "GAUGE", metric: [{ gauge: { value: s.value }, timestamp_ms: now }] });
      }
    }
    return [...counters, ...gauges];
  }

  /** Used histograms: SUMMARY then HISTOGRAM per histogram (flushSummary, flushHistogram). */
  private histogramFamilies(now: number): Record<string, unknown>[] {
    const mode = this.options.histogramEmitMode ?? "SUMMARY_AND_HISTOGRAM";
    const out: Record<string, unknown>[] = [];
    for (const h of this.stats.histograms()) {
      if (!h.used) continue;
      const i = h.takeInterval();
      const counts = { sample_count: i.sampleCount, sample_sum: i.sampleSum };
      if (mode !== "HISTOGRAM") {
        const quantile = i.quantiles.map(([q, value]) => ({ quantile: q, value }));
        out.push({ name: i.name, type: "SUMMARY", metric: [{ summary: { ...counts, quantile }, timestamp_ms: now }] });
      }
      if (mode !== "SUMMARY") {
        const bucket = i.buckets.map(([upper_bound, cumulative_count]) => ({ upper_bound, cumulative_count }));
        out.push({ name: i.name, type: "HISTOGRAM", metric: [{ histogram: { ...counts, bucket }, timestamp_ms: now }] });
      }
    }
    return out;
  }

  private open(): grpc.ClientWritableStream<Buffer> {
    const call = this.client.makeClientStreamRequest<Buffer, Buffer>(
      METRICS_SERVICE_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
      (err) => {
        if (err) this.logger.debug("metrics service stream ended", { error: err.message });
        if (this.call === call) this.call = undefined;
      },
    );
    call.on("error", () => {
      if (this.call === call) this.call = undefined;
    });
    this.call = call;
    return call;
  }
}
