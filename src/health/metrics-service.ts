/**
 * `envoy.service.metrics.v3.MetricsService/StreamMetrics` on the xDS port:
 * what Envoy's `envoy.stat_sinks.metrics_service` sink pushes every
 * stats_flush_interval (docs/ENVOY.md "Getting stats out of Envoy";
 * api/envoy/service/metrics/v3/metrics_service.proto). Each stream is one
 * Envoy: its first message names the node; each flush carries all used
 * stats as MetricFamily, in one message or, with batch_size, in several
 * sent back to back (flush-sequence.ts tells them apart). The wasm and ECDS
 * stats become HealthSignals (stat-signals.ts) as each message arrives, and
 * the latest of them are kept per node. All the messages of a cumulative
 * stream's first flush are the node's baseline, not only the first message.
 *
 * Counters: cumulative or deltas, per stream. `countersAsDeltas(node)`
 * says which when the deployment knows (true/false); when it returns
 * undefined (the default) the stream's mode is learned from its first
 * flushes (counter-mode.ts), and their wasm stats wait, at most
 * DEFAULT_MAX_UNDECIDED flushes or `maxPendingStats` stats, until it is
 * known.
 */
import * as grpc from "@grpc/grpc-js";
import type { StreamMetricsMessage__Output } from "../generated/envoy/service/metrics/v3/StreamMetricsMessage";
import { LogLimiter } from "../log-limiter";
import { type Logger, silentLogger } from "../logger";
import type { NodeIdentityMode } from "../net/node-identity";
import { type Clock, realClock } from "../time/clock";
import type { NodeInfo } from "../vocabulary/node-info";
import { clientStreamMethod, newStreamCounters, serveClientStream, StreamRejection, type StreamCounters } from "./client-stream";
import { CounterModeDetector } from "./counter-mode";
import { FlushSequence } from "./flush-sequence";
import type { CounterMode, CounterTracker } from "./counter-tracker";
import type { LatestStats, NodeStatsView, StatSample } from "./latest-stats";
import { readFamilies } from "./metric-families";
import type { SignalHub } from "./signal";
import { StatSignals, type TrafficSink } from "./stat-signals";

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
  /** wasm stats held per stream while its counter mode is unknown (default 100000); past it the mode is taken as cumulative. */
  readonly maxPendingStats: number;
}

export const DEFAULT_METRICS_LIMITS: MetricsServiceLimits = Object.freeze({
  maxMessageBytes: 8 * 1024 * 1024,
  maxFamiliesPerMessage: 100_000,
  maxMetricsPerFamily: 64,
  maxNameLength: 4096,
  maxPendingStats: 100_000,
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
  /** Receives the listeners' traffic counter increases (canary analysis). */
  readonly traffic?: TrafficSink;
  /** For the rate limit of peer-triggered warnings (default: the process clock). */
  readonly clock?: Clock;
  /** `--node-identity`: stats only for the node the client certificate names (net/node-identity.ts). */
  readonly nodeIdentity?: NodeIdentityMode;
}

export interface MetricsServiceStats extends StreamCounters {
  readonly familiesAccepted: number;
  readonly familiesInvalid: number;
  readonly familiesUnrelated: number;
  readonly signals: number;
  readonly streamsCumulative: number;
  readonly streamsDelta: number;
}

/** The wasm stats of one flush (or of its messages read so far) held until the counter mode is known. */
interface HeldFlush {
  /** Its first message started a flush (false: it continues the flush before, which was processed already). */
  readonly starts: boolean;
  readonly samples: StatSample[];
}

interface StreamState {
  node?: NodeInfo;
  detector?: CounterModeDetector;
  readonly flushes: FlushSequence;
  /** Read before the counter mode was known, in order. */
  pending: HeldFlush[];
  pendingStats: number;
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
    this.signals = new StatSignals({ hub: options.hub, source: "metrics-service", tracker: options.tracker, latest: options.latest, now: options.now ?? (() => (options.clock ?? realClock).now()), traffic: options.traffic });
  }

  /** Registers StreamMetrics on the gRPC server (the xDS port). */
  register(server: Pick<grpc.Server, "addService">): void {
    server.addService(METRICS_SERVICE, {
      StreamMetrics: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const state: StreamState = { flushes: new FlushSequence(), pending: [], pendingStats: 0 };
        serveClientStream<StreamMetricsMessage__Output>(call, callback, {
          requestType: REQUEST,
          responseType: RESPONSE,
          maxMessageBytes: this.limits.maxMessageBytes,
          logger: this.logger,
          warnings: this.warnings,
          counters: this.counters,
          open: this.open,
          ...(this.options.nodeIdentity && { nodeIdentity: this.options.nodeIdentity }),
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
    const wasmCounters = read.samples.filter((s) => s.type === "counter").map((s) => s.name);
    const part = state.flushes.next(read.time, families.length, wasmCounters);
    const known = detector.mode;
    const mode = detector.observe(read.counters, part);
    if (!mode) {
      this.hold(state, part.starts, read.samples);
      if (state.pendingStats > this.limits.maxPendingStats) {
        this.logger.debug("too many stats waiting for the counter mode; taking it as cumulative", { node: node.id, held: state.pendingStats });
        this.learned(state, node, detector.settle());
      }
      return;
    }
    if (!known) this.learned(state, node, mode);
    this.signals.process(node.id, read.samples, mode, { continuesSnapshot: !part.starts });
  }

  /** Keeps a message's wasm stats until the mode is known; a later part of a held flush joins it. */
  private hold(state: StreamState, starts: boolean, samples: readonly StatSample[]): void {
    const last = state.pending.at(-1);
    if (!starts && last) for (const s of samples) last.samples.push(s);
    else state.pending.push({ starts, samples: [...samples] });
    state.pendingStats += samples.length;
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

  /** The mode just became known: count it and replay the flushes that waited. */
  private learned(state: StreamState, node: NodeInfo, mode: CounterMode): void {
    this.modes[mode]++;
    this.logger.debug("metrics stream counter mode", { node: node.id, mode, heldFlushes: state.pending.length });
    const pending = state.pending;
    state.pending = [];
    state.pendingStats = 0;
    for (const held of pending) this.signals.process(node.id, held.samples, mode, { continuesSnapshot: !held.starts });
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
