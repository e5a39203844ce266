/**
 * Turns counter readings into increases, per node and stat.
 *
 * Envoy counters only go up while a process lives; they are reported either
 * as the current value or, with MetricsServiceConfig
 * report_counters_as_deltas, as the change since the previous flush
 * (grpc_metrics_service_impl.cc flushCounter; docs/ENVOY.md "Getting stats
 * out of Envoy"). Rules, as Prometheus' rate() treats resets:
 * - delta: the reported value is the increase.
 * - cumulative, stat seen before: value - last; a value below the last means
 *   the counter started again (Envoy restarted, or the scope holding it was
 *   re-created, e.g. a filter removed and added back), so the whole new
 *   value is the increase.
 * - cumulative, stat never seen but the node already sent a snapshot: Envoy
 *   reports only used counters (metrics service; admin JSON shows unused
 *   ones as 0), so the counter went from 0 to its value since: the whole
 *   value is the increase. This is how a new plugin's first crash is seen.
 * - cumulative, the node's first snapshot: history unknown (the control
 *   plane or the Envoy just connected), so it is only a baseline. A
 *   snapshot may be read in parts (a metrics service flush split into
 *   batch_size messages): every part of the first snapshot is baseline,
 *   and the node counts as having a baseline from its next snapshot on.
 * A node switching between delta and cumulative readings starts afresh.
 * Memory is bounded: per node the least recently read stats and overall the
 * least recently read nodes are dropped first.
 */
export type CounterMode = "cumulative" | "delta";

export interface CounterTrackerOptions {
  /** Stats remembered per node (default 5000). */
  readonly maxStatsPerNode?: number;
  /** Nodes remembered (default 50000). */
  readonly maxNodes?: number;
}

export interface ReadOptions {
  /** These readings are a later part of the snapshot the previous call read (a further batch of one flush). */
  readonly continuesSnapshot?: boolean;
}

interface NodeCounters {
  readonly mode: CounterMode;
  /** Something of this node was read before. */
  read: boolean;
  /** A whole snapshot of this node was read before the current one (cumulative). */
  baseline: boolean;
  /** Last value per stat, least recently read first. */
  readonly last: Map<string, number>;
}

export class CounterTracker {
  private readonly nodes = new Map<string, NodeCounters>();
  private readonly maxStatsPerNode: number;
  private readonly maxNodes: number;

  constructor(options: CounterTrackerOptions = {}) {
    this.maxStatsPerNode = options.maxStatsPerNode ?? 5000;
    this.maxNodes = options.maxNodes ?? 50_000;
  }

  /**
   * Reads one snapshot of a node's counters (name, value >= 0) and returns
   * the counters that increased, with the increase.
   */
  increases(nodeId: string, mode: CounterMode, counters: Iterable<readonly [string, number]>, options: ReadOptions = {}): Map<string, number> {
    const node = this.nodeFor(nodeId, mode);
    // A new snapshot after an earlier one: the earlier one is complete, so from now on a stat never seen went up from 0.
    if (!options.continuesSnapshot && node.read) node.baseline = true;
    node.read = true;
    const out = new Map<string, number>();
    for (const [name, value] of counters) {
      const increase = mode === "delta" ? value : this.cumulativeIncrease(node, name, value);
      if (increase > 0) out.set(name, increase);
    }
    return out;
  }

  /** Forgets a node (e.g. removed from the fleet). */
  forget(nodeId: string): void {
    this.nodes.delete(nodeId);
  }

  /** How much is remembered (for the control plane's own metrics). */
  size(): { nodes: number; stats: number } {
    let stats = 0;
    for (const n of this.nodes.values()) stats += n.last.size;
    return { nodes: this.nodes.size, stats };
  }

  private nodeFor(nodeId: string, mode: CounterMode): NodeCounters {
    let node = this.nodes.get(nodeId);
    if (node) this.nodes.delete(nodeId); // re-inserted below: most recently read last
    if (!node || node.mode !== mode) node = { mode, read: false, baseline: false, last: new Map() };
    this.nodes.set(nodeId, node);
    if (this.nodes.size > this.maxNodes) {
      const oldest = this.nodes.keys().next().value;
      if (oldest !== undefined) this.nodes.delete(oldest);
    }
    return node;
  }

  private cumulativeIncrease(node: NodeCounters, name: string, value: number): number {
    const last = node.last.get(name);
    node.last.delete(name);
    node.last.set(name, value);
    if (node.last.size > this.maxStatsPerNode) {
      const oldest = node.last.keys().next().value;
      if (oldest !== undefined) node.last.delete(oldest);
    }
    if (last === undefined) return node.baseline ? value : 0;
    return value >= last ? value - last : value;
  }
}
