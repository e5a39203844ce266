/**
 * One node's stats snapshot in, HealthSignals out: keeps the latest view,
 * turns the signal counters (stat-names.ts) into increases with the
 * CounterTracker, and publishes one signal per counter that rose. The
 * listeners' traffic counters (stat-traffic.ts) go through the same
 * tracker, so cumulative and delta streams, baselines and resets are read
 * alike, and their increases go to the traffic sink (canary analysis).
 * Shared by the metrics service ingest (push) and the admin poller (pull),
 * so both read Envoy's names the same way.
 */
import { CounterTracker, type CounterMode, type ReadOptions } from "./counter-tracker";
import { LatestStats, type StatSample } from "./latest-stats";
import type { HealthSignal, SignalHub, SignalSource } from "./signal";
import { isHealthStat, isWasmStat, statSignal } from "./stat-names";
import { type TrafficStat, trafficStat } from "./stat-traffic";

/** One traffic counter's increase on one node. */
export interface TrafficIncrease extends TrafficStat {
  readonly increase: number;
}

/** Receives the traffic counter increases of one reading of a node (at: ms since the epoch). */
export type TrafficSink = (nodeId: string, increases: readonly TrafficIncrease[], at: number) => void;

export interface StatSignalsOptions {
  readonly hub: SignalHub;
  readonly source: SignalSource;
  readonly tracker?: CounterTracker;
  readonly latest?: LatestStats;
  readonly now?: () => number;
  readonly traffic?: TrafficSink;
}

export class StatSignals {
  readonly tracker: CounterTracker;
  readonly latest: LatestStats;
  private readonly hub: SignalHub;
  private readonly source: SignalSource;
  private readonly now: () => number;
  private readonly traffic: TrafficSink | undefined;
  private emitted = 0;

  constructor(options: StatSignalsOptions) {
    this.hub = options.hub;
    this.source = options.source;
    this.tracker = options.tracker ?? new CounterTracker();
    this.latest = options.latest ?? new LatestStats();
    this.now = options.now ?? Date.now;
    this.traffic = options.traffic;
  }

  /** Signals published so far. */
  get signalCount(): number {
    return this.emitted;
  }

  /**
   * Reads one snapshot of a node's stats, or one part of it (any names;
   * only wasm-related ones are kept) and publishes the signals; returns how
   * many.
   */
  process(nodeId: string, samples: readonly StatSample[], mode: CounterMode, options: ReadOptions = {}): number {
    const at = this.now();
    const kept = samples.filter((s) => isHealthStat(s.name));
    // The view shows the wasm and ECDS stats only; traffic counters are counted, not shown.
    this.latest.record(
      nodeId,
      this.source,
      mode,
      kept.filter((s) => isWasmStat(s.name)),
      at,
    );
    // Every signal stat is a counter in Envoy (stats_handler.h,
    // config_discovery_impl.h); the admin JSON does not carry types, so
    // "unknown" is read as a counter and only an explicit gauge is skipped.
    const counters = kept.filter((s) => s.type !== "gauge" && (statSignal(s.name) || trafficStat(s.name))).map((s) => [s.name, s.value] as const);
    // Called even with no counters: the snapshot still sets the node's baseline.
    const increases = this.tracker.increases(nodeId, mode, counters, options);
    let n = 0;
    const traffic: TrafficIncrease[] = [];
    for (const [name, increase] of increases) {
      const t = trafficStat(name);
      if (t) {
        traffic.push({ ...t, increase });
        continue;
      }
      const signal = this.signalFor(nodeId, name, increase, at);
      if (!signal) continue;
      this.hub.emit(signal);
      n++;
    }
    this.emitted += n;
    if (traffic.length > 0) this.traffic?.(nodeId, traffic, at);
    return n;
  }

  private signalFor(nodeId: string, name: string, increase: number, at: number): HealthSignal | undefined {
    const s = statSignal(name);
    if (!s) return undefined;
    const base = { nodeId, count: Math.max(1, Math.round(increase)), evidence: name, source: this.source, at };
    switch (s.kind) {
      case "vm_reload_success":
      case "vm_reload_failure":
      case "vm_reload_backoff":
        return { ...base, kind: s.kind, plugin: s.plugin };
      case "vm_created":
      case "remote_fetch_failure":
        return { ...base, kind: s.kind };
      case "ecds_config_fail":
        return { ...base, kind: s.kind, filter: s.filter };
    }
  }
}
