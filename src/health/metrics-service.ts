/**
 * `envoy.service.metrics.v3.MetricsService/StreamMetrics` on the xDS port:
 * what Envoy's `envoy.stat_sinks.metrics_service` sink pushes every
 * stats_flush_interval (docs/ENVOY.md "Getting stats out of Envoy";
 * api/envoy/service/metrics/v3/metrics_service.proto). Each stream is one
 * Envoy: its first message names the node, every message carries all used
 * stats as MetricFamily. The wasm and ECDS stats become HealthSignals
 * (stat-signals.ts), and the latest of them are kept per node.
 *
 * Counters: cumulative or deltas, per stream. `countersAsDeltas(node)`
 * says which when the deployment knows (true/false); when it returns
 * undefined (the default) the stream's mode is learned from its first
 * messages (counter-mode.ts), and those messages wait, at most
 * DEFAULT_MAX_UNDECIDED flushes, until it is known.
 */
import * as grpc from "@grpc/grpc-js";
import type { StreamMetricsMessage__Output } from "../generated/envoy/service/metrics/v3/StreamMetricsMessage";
import { LogLimiter } from "../log-limiter";
import { type Logger, silentLogger } from "../logger";
import { type Clock, realClock } from "../time/clock";
import type { NodeInfo } from "../xds/node";
import { clientStreamMethod, newStreamCounters, serveClientStream, StreamRejection, type StreamCounters } from "./client-stream";
import { CounterModeDetector } from "./counter-mode";
import type { CounterMode, CounterTracker } from "./counter-tracker";
import type { LatestStats, NodeStatsView, StatSample } from "./latest-stats";
import { readFamilies } from "./metric-families";
import type { SignalHub } from "./signal";
import { StatSignals } from "./stat-signals";

export const METRICS_SERVICE_PATH = "/envoy.service.metrics.v3.MetricsService/StreamMetrics";
const REQUEST = "envoy.service.metrics.v3.StreamMetricsMessage";
const RESPONSE = "envoy.service.metrics.v3.StreamMetricsResponse";

export const METRICS_SERVICE = { StreamMetrics: clientStreamMethod(METRICS_SERVICE_PATH) } satisfies grpc.ServiceDefinition;

export interface MetricsServiceLimits {
  /** Bytes in one message (default 8 MiB; the gRPC server's own limit applies first if lower). */
  readonly maxMessageBytes: number;
  /** Families in one message (default 100000: an Envoy with a large config has tens of thousands of stats). */
  readonly maxFamiliesPerMessage: number;
  /** Metrics in one family (Envoy sends one; default 64). */
  readonly maxMetricsPerFamily: number;
  readonly maxNameLength: number;
}

export const DEFAULT_METRICS_LIMITS: MetricsServiceLimits = Object.freeze({
  maxMessageBytes: 8 * 1024 * 1024,
  maxFamiliesPerMessage: 100_000,
  maxMetricsPerFamily: 64,
  maxNameLength: 4096,
});

export interface MetricsServiceIngestOptions {
  readonly hub: SignalHub;
  readonly logger?: Logger;
  /** true: the node's sink sets report_counters_as_deltas; false: it does not; undefined: learn it per stream. */
  readonly countersAsDeltas?: (node: NodeInfo) => boolean | undefined;
  readonly limits?: Partial<MetricsServiceLimits>;
  /** Shared with the admin poller only if both read cumulative counters of the same nodes. */
  readonly tracker?: CounterTracker;
  readonly latest?: LatestStats;
  readonly now?: () => number;
  /** For the rate limit of peer-triggered warnings (default: the process clock). */
  readonly clock?: Clock;
}

export interface MetricsServiceStats extends StreamCounters {
  readonly familiesAccepted: number;
  readonly familiesInvalid: number;
  readonly familiesUnrelated: number;
  readonly signals: number;
  readonly streamsCumulative: number;
  readonly streamsDelta: number;
}

interface StreamState {
  node?: NodeInfo;
  detector?: CounterModeDetector;
  /** Messages read before the counter mode was known. */
  pending: StatSample[][];
}

export class MetricsServiceIngest {
  private readonly logger: Logger;
  private readonly limits: MetricsServiceLimits;
  private readonly signals: StatSignals;
  private readonly counters = newStreamCounters();
  private readonly warnings: LogLimiter;
  private readonly open = new Set<() => void>();
  private readonly families = { accepted: 0, invalid: 0, unrelated: 0 };
  private readonly modes = { cumulative: 0, delta: 0 };
  private readonly active = new Map<string, number>();

  constructor(private readonly options: MetricsServiceIngestOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: "metrics-service" });
    this.warnings = new LogLimiter(this.logger, options.clock ?? realClock);
    this.limits = Object.freeze({ ...DEFAULT_METRICS_LIMITS, ...options.limits });
    this.signals = new StatSignals({ hub: options.hub, source: "metrics-service", tracker: options.tracker, latest: options.latest, now: options.now });
  }

  /** Registers StreamMetrics on the gRPC server (the xDS port). */
  register(server: grpc.Server): void {
    server.addService(METRICS_SERVICE, {
      StreamMetrics: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const state: StreamState = { pending: [] };
        serveClientStream<StreamMetricsMessage__Output>(call, callback, {
          requestType: REQUEST,
          responseType: RESPONSE,
          maxMessageBytes: this.limits.maxMessageBytes,
          logger: this.logger,
          warnings: this.warnings,
          counters: this.counters,
          open: this.open,
          onMessage: (node, message) => this.onMessage(state, node, message),
          onClose: () => this.onClose(state),
        });
      },
    });
  }

  /** The latest wasm-related stats a node pushed. */
  latest(nodeId: string): NodeStatsView | undefined {
    return this.signals.latest.get(nodeId);
  }

  /** Nodes with stats in the latest view. */
  nodes(): string[] {
    return this.signals.latest.nodeIds();
  }

  /** True while a stream from this node is open (e.g. to skip pulling its admin stats). */
  isPushing(nodeId: string): boolean {
    return (this.active.get(nodeId) ?? 0) > 0;
  }

  /** Ends every open stream with OK (shutdown: Envoy reconnects to the next control plane) and logs suppressed warnings. */
  closeAll(): void {
    for (const end of [...this.open]) end();
    this.warnings.close();
  }

  stats(): MetricsServiceStats {
    return {
      ...this.counters,
      familiesAccepted: this.families.accepted,
      familiesInvalid: this.families.invalid,
      familiesUnrelated: this.families.unrelated,
      signals: this.signals.signalCount,
      streamsCumulative: this.modes.cumulative,
      streamsDelta: this.modes.delta,
    };
  }

  private onMessage(state: StreamState, node: NodeInfo, message: StreamMetricsMessage__Output): void {
    const families = message.envoy_metrics;
    if (families.length > this.limits.maxFamiliesPerMessage) {
      throw new StreamRejection(grpc.status.RESOURCE_EXHAUSTED, `${families.length} metric families in one message, over the limit of ${this.limits.maxFamiliesPerMessage}`);
    }
    const detector = state.detector ?? this.opened(state, node);
    const read = readFamilies(families, this.limits);
    this.families.accepted += families.length - read.invalid;
    this.families.invalid += read.invalid;
    this.families.unrelated += read.unrelated;
    if (read.invalid > 0) this.logger.debug("skipped malformed metric families", { node: node.id, count: read.invalid });
    const known = detector.mode;
    const mode = detector.observe(read.counters);
    if (!mode) {
      state.pending.push(read.samples);
      return;
    }
    if (!known) this.learned(state, node, mode);
    this.signals.process(node.id, read.samples, mode);
  }

  /** The stream's first message: count it for its node and pick how its counters are read. */
  private opened(state: StreamState, node: NodeInfo): CounterModeDetector {
    state.node = node;
    this.active.set(node.id, (this.active.get(node.id) ?? 0) + 1);
    if ((this.active.get(node.id) ?? 0) > 1) {
      // Two Envoys with one node id (or a hot restart's parent and child) interleave readings of one counter.
      this.warnings.warn(`duplicate|${node.id}`, "more than one metrics stream for one node id; counter increases may be wrong", { node: node.id });
    }
    const fixed = this.options.countersAsDeltas?.(node);
    const mode: CounterMode | undefined = fixed === undefined ? undefined : fixed ? "delta" : "cumulative";
    state.detector = new CounterModeDetector(mode);
    if (mode) this.modes[mode]++;
    return state.detector;
  }

  /** The mode just became known: count it and replay the messages that waited. */
  private learned(state: StreamState, node: NodeInfo, mode: CounterMode): void {
    this.modes[mode]++;
    this.logger.debug("metrics stream counter mode", { node: node.id, mode, afterMessages: state.pending.length + 1 });
    const pending = state.pending;
    state.pending = [];
    for (const samples of pending) this.signals.process(node.id, samples, mode);
  }

  private onClose(state: StreamState): void {
    const node = state.node;
    if (!node) return;
    const left = (this.active.get(node.id) ?? 1) - 1;
    if (left > 0) this.active.set(node.id, left);
    else this.active.delete(node.id);
    if (state.pending.length > 0 && state.detector) {
      try {
        this.learned(state, node, state.detector.settle());
      } catch (err) {
        this.logger.error("error reading the last messages of a metrics stream", { node: node.id, err: String(err) });
      }
    }
  }
}
