/**
 * Envoy's `envoy.stat_sinks.metrics_service` sink (ENVOY-NOTES "Getting
 * stats out of Envoy"): every flush interval (default 5 s, Envoy's
 * stats_flush_interval) it writes one StreamMetricsMessage on a client
 * stream to envoy.service.metrics.v3.MetricsService/StreamMetrics, with the
 * node identifier only on a stream's first message. Each used stat is one
 * io.prometheus.client.MetricFamily named by the dotted stat name
 * (emit_tags_as_labels off), COUNTER or GAUGE; counters are cumulative, or
 * deltas since the previous flush with report_counters_as_deltas. A broken
 * stream is replaced at the next flush, starting again with the identifier.
 */
import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "../../logger";
import { encodeMessage } from "../../proto/registry";
import { type Clock, every, type TimerHandle } from "../../time/clock";
import type { StatsStore } from "./stats-store";

export const METRICS_SERVICE_PATH = "/envoy.service.metrics.v3.MetricsService/StreamMetrics";
const MESSAGE = "envoy.service.metrics.v3.StreamMetricsMessage";

export interface MetricsServiceOptions {
  /** Envoy's stats_flush_interval; default 5000 ms. */
  readonly flushIntervalMs?: number;
  /** MetricsServiceConfig.report_counters_as_deltas; default false. */
  readonly reportCountersAsDeltas?: boolean;
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

  /** One flush now (also what the timer does). */
  flush(): void {
    const now = this.clock.now();
    const families: Record<string, unknown>[] = [];
    for (const s of this.stats.all()) {
      if (!s.used) continue;
      if (s.type === "counter") {
        const previous = this.lastCounter.get(s.name) ?? 0;
        this.lastCounter.set(s.name, s.value);
        const value = this.options.reportCountersAsDeltas ? s.value - previous : s.value;
        families.push({ name: s.name, type: "COUNTER", metric: [{ counter: { value }, timestamp_ms: now }] });
      } else {
        families.push({ name: s.name, type: "GAUGE", metric: [{ gauge: { value: s.value }, timestamp_ms: now }] });
      }
    }
    const first = this.call === undefined;
    const call = this.call ?? this.open();
    const message = first ? { identifier: { node: this.node }, envoy_metrics: families } : { envoy_metrics: families };
    call.write(encodeMessage(MESSAGE, message));
    this.flushes++;
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
