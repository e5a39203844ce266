/**
 * The latest wasm-related stats of each node (`wasm.*`,
 * `extension_config_discovery.*`), as last reported, for the admin API.
 * Bounded: per node the least recently reported stats and overall the
 * least recently reporting nodes are dropped first.
 */
import type { CounterMode } from "./counter-tracker";
import type { SignalSource } from "./signal";

/** counter / gauge from the metrics service; the admin JSON does not say which, so "unknown". */
export type StatType = "counter" | "gauge" | "unknown";

export interface StatSample {
  readonly name: string;
  readonly type: StatType;
  readonly value: number;
}

export interface NodeStatsView {
  readonly nodeId: string;
  readonly source: SignalSource;
  /** How this node's counters were read ("delta": values are changes since the previous flush). */
  readonly counterMode: CounterMode;
  /** ms since the epoch of the last report. */
  readonly updatedAt: number;
  /** Sorted by name. */
  readonly stats: readonly StatSample[];
}

export interface LatestStatsOptions {
  readonly maxStatsPerNode?: number;
  readonly maxNodes?: number;
}

interface Entry {
  source: SignalSource;
  counterMode: CounterMode;
  updatedAt: number;
  readonly stats: Map<string, StatSample>;
}

export class LatestStats {
  private readonly nodes = new Map<string, Entry>();
  private readonly maxStatsPerNode: number;
  private readonly maxNodes: number;

  constructor(options: LatestStatsOptions = {}) {
    this.maxStatsPerNode = options.maxStatsPerNode ?? 2000;
    this.maxNodes = options.maxNodes ?? 10_000;
  }

  record(nodeId: string, source: SignalSource, counterMode: CounterMode, samples: readonly StatSample[], at: number): void {
    let entry = this.nodes.get(nodeId);
    if (entry) this.nodes.delete(nodeId);
    entry ??= { source, counterMode, updatedAt: at, stats: new Map() };
    Object.assign(entry, { source, counterMode, updatedAt: at });
    this.nodes.set(nodeId, entry);
    if (this.nodes.size > this.maxNodes) {
      const oldest = this.nodes.keys().next().value;
      if (oldest !== undefined) this.nodes.delete(oldest);
    }
    for (const s of samples) {
      entry.stats.delete(s.name);
      entry.stats.set(s.name, s);
      if (entry.stats.size > this.maxStatsPerNode) {
        const oldest = entry.stats.keys().next().value;
        if (oldest !== undefined) entry.stats.delete(oldest);
      }
    }
  }

  get(nodeId: string): NodeStatsView | undefined {
    const e = this.nodes.get(nodeId);
    if (!e) return undefined;
    const stats = [...e.stats.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return Object.freeze({ nodeId, source: e.source, counterMode: e.counterMode, updatedAt: e.updatedAt, stats: Object.freeze(stats) });
  }

  nodeIds(): string[] {
    return [...this.nodes.keys()];
  }

  forget(nodeId: string): void {
    this.nodes.delete(nodeId);
  }
}
