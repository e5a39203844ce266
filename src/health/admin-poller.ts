/**
 * Pulls the wasm and ECDS stats from each node's Envoy admin API, for
 * setups without the metrics service sink: `GET /stats?format=json&filter=`
 * ADMIN_HEALTH_FILTER (Envoy admin docs "GET /stats"; docs/ENVOY.md "Getting
 * stats out of Envoy") every interval (default 5 s, Envoy's default
 * stats_flush_interval). Admin values are cumulative, so increases and
 * signals come from the same StatSignals / CounterTracker as the push path;
 * a node's first successful poll is its baseline.
 *
 * Each node is polled on its own: a timeout, an HTTP error or a body that
 * is not Envoy's JSON is logged for that node (once, then at debug until it
 * recovers) and retried at the next interval. A node still being polled is
 * not polled again; rounds never overlap. The interval and the request
 * timeouts run on the injected Clock, so tests decide when a timeout falls
 * due instead of racing a real one.
 */
import { runInBackground } from "../background";
import { errorMessage } from "../errors";
import { LogLimiter } from "../log-limiter";
import { type Logger, silentLogger } from "../logger";
import { type Clock, realClock, type TimerHandle } from "../time/clock";
import type { NodeInfo } from "../vocabulary/node-info";
import { adminBaseUrl } from "./admin-address";
import { parseAdminStatsJson, readBodyBounded } from "./admin-stats-json";
import type { CounterTracker } from "./counter-tracker";
import type { LatestStats, NodeStatsView } from "./latest-stats";
import type { SignalHub } from "./signal";
import { ADMIN_HEALTH_FILTER } from "./stat-names";
import { StatSignals, type TrafficSink } from "./stat-signals";

export interface AdminStatsPollerOptions {
  readonly hub: SignalHub;
  readonly logger?: Logger;
  /** Default 5000 ms. */
  readonly intervalMs?: number;
  /** Per request; default the interval, at most 5000 ms. */
  readonly timeoutMs?: number;
  /** The node's admin address (`HOST:PORT` or URL), e.g. adminAddressResolver(); undefined: not polled. */
  readonly addressOf: (node: NodeInfo) => string | undefined;
  /** Nodes to leave out of a round, e.g. those pushing over the metrics service (MetricsServiceIngest.isPushing). */
  readonly skip?: (nodeId: string) => boolean;
  /** Polls at once (default 16). */
  readonly concurrency?: number;
  /** Default 8 MiB. */
  readonly maxBodyBytes?: number;
  /** Default 100000. */
  readonly maxStats?: number;
  readonly tracker?: CounterTracker;
  readonly latest?: LatestStats;
  readonly now?: () => number;
  /** Receives the listeners' traffic counter increases (canary analysis). */
  readonly traffic?: TrafficSink;
  /** Nodes polled at most (default 10000); later nodes are not polled, with a warning. */
  readonly maxNodes?: number;
  /** The interval, the request timeouts and the rate limit of warnings about nodes (default: the process clock). */
  readonly clock?: Clock;
}

export interface PollOutcome {
  readonly nodeId: string;
  readonly ok: boolean;
  readonly signals: number;
  readonly error?: string;
}

export interface AdminPollerStats {
  readonly nodesTracked: number;
  readonly polls: number;
  readonly pollFailures: number;
  readonly signals: number;
}

interface Target {
  node: NodeInfo;
  readonly address: string;
  readonly url: string;
  inFlight: boolean;
  failing: boolean;
}

export class AdminStatsPoller {
  private readonly logger: Logger;
  private readonly signals: StatSignals;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly targets = new Map<string, Target>();
  /** Warnings about nodes (bad addresses, failing polls) are rate limited per node: a fleet of broken admin ports is a few lines a minute. */
  private readonly warnings: LogLimiter;
  private readonly maxNodes: number;
  private readonly counts = { polls: 0, pollFailures: 0 };
  private readonly clock: Clock;
  private abort = new AbortController();
  private timer: TimerHandle | undefined;
  /** The current start()'s loop; a round of an earlier loop (stopped, then started again) ends without re-arming. */
  private loop: object | undefined;

  constructor(private readonly options: AdminStatsPollerOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: "admin-stats-poller" });
    this.intervalMs = options.intervalMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? Math.min(this.intervalMs, 5000);
    this.clock = options.clock ?? realClock;
    this.warnings = new LogLimiter(this.logger, this.clock);
    this.maxNodes = options.maxNodes ?? 10_000;
    this.signals = new StatSignals({ hub: options.hub, source: "admin-pull", tracker: options.tracker, latest: options.latest, now: options.now ?? (() => this.clock.now()), traffic: options.traffic });
  }

  /** Polls this node from now on if its admin address is known; returns whether it is polled. */
  track(node: NodeInfo): boolean {
    const address = this.options.addressOf(node);
    if (address === undefined) {
      this.targets.delete(node.id);
      return false;
    }
    const url = adminBaseUrl(address);
    if (!url) {
      this.warnings.warn(`address|${node.id}`, "not an admin address; the node's stats are not pulled", { node: node.id, address });
      this.targets.delete(node.id);
      return false;
    }
    const existing = this.targets.get(node.id);
    if (!existing && this.targets.size >= this.maxNodes) {
      this.warnings.warn("max-nodes", "too many nodes to pull admin stats from; this one is not polled", { node: node.id, limit: this.maxNodes });
      return false;
    }
    if (existing && existing.url === url) existing.node = node;
    else this.targets.set(node.id, { node, address, url, inFlight: false, failing: false });
    return true;
  }

  untrack(nodeId: string): void {
    this.targets.delete(nodeId);
  }

  /** Node ids being polled. */
  tracked(): string[] {
    return [...this.targets.keys()];
  }

  /** Polls now, then every interval after the round ends, until stop(). */
  start(): void {
    if (this.loop) return;
    const loop = {};
    this.loop = loop;
    const round = async () => {
      await this.pollNow();
      if (this.loop !== loop) return;
      this.timer = this.clock.setTimeout(() => runInBackground(round(), "polling node admin endpoints", { logger: this.logger }), this.intervalMs);
    };
    runInBackground(round(), "polling node admin endpoints", { logger: this.logger });
  }

  /** Stops the timer and cancels the polls in flight. */
  stop(): void {
    this.warnings.close();
    this.loop = undefined;
    this.timer?.cancel();
    this.timer = undefined;
    this.abort.abort();
    this.abort = new AbortController();
  }

  /** One round over every tracked node (not skipped, not already in flight). */
  async pollNow(): Promise<PollOutcome[]> {
    const due = [...this.targets.values()].filter((t) => !t.inFlight && !this.options.skip?.(t.node.id));
    const outcomes: PollOutcome[] = [];
    const workers = Array.from({ length: Math.min(this.options.concurrency ?? 16, due.length) }, async () => {
      for (let t = due.shift(); t; t = due.shift()) outcomes.push(await this.poll(t));
    });
    await Promise.all(workers);
    return outcomes;
  }

  /** Node ids with a request in flight. */
  inFlight(): string[] {
    return [...this.targets.values()].filter((t) => t.inFlight).map((t) => t.node.id);
  }

  latest(nodeId: string): NodeStatsView | undefined {
    return this.signals.latest.get(nodeId);
  }

  stats(): AdminPollerStats {
    return { nodesTracked: this.targets.size, ...this.counts, signals: this.signals.signalCount };
  }

  private async poll(target: Target): Promise<PollOutcome> {
    const nodeId = target.node.id;
    const abort = this.abort.signal;
    // A timer of our own, not AbortSignal.any([.., AbortSignal.timeout()]): on Node 20 a timeout
    // signal held only by the combined one can be garbage-collected unfired (seen here: a poll of
    // an admin port that never answered hung past its timeout).
    const request = new AbortController();
    const timer = this.clock.setTimeout(() => request.abort(new DOMException(`timed out after ${this.timeoutMs} ms`, "TimeoutError")), this.timeoutMs);
    const cancel = () => request.abort(new DOMException("cancelled", "AbortError"));
    abort.addEventListener("abort", cancel);
    target.inFlight = true;
    this.counts.polls++;
    try {
      const url = `${target.url}/stats?format=json&filter=${encodeURIComponent(ADMIN_HEALTH_FILTER)}`;
      const res = await fetch(url, { signal: request.signal, headers: { accept: "application/json" } });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status} from ${url}`);
      }
      const samples = parseAdminStatsJson(await readBodyBounded(res, this.options.maxBodyBytes ?? 8 * 1024 * 1024), this.options.maxStats ?? 100_000);
      // Untracked or stopped while the request ran: its readings no longer belong anywhere.
      if (this.targets.get(nodeId) !== target || abort.aborted) return { nodeId, ok: false, signals: 0, error: "no longer polled" };
      const signals = this.signals.process(nodeId, samples, "cumulative");
      if (target.failing) this.logger.info("admin stats reachable again", { node: nodeId, address: target.address });
      target.failing = false;
      return { nodeId, ok: true, signals };
    } catch (err) {
      // Cancelled by stop(): not the node's failure.
      if (abort.aborted) return { nodeId, ok: false, signals: 0, error: "cancelled" };
      const error = this.describe(err);
      this.counts.pollFailures++;
      const fields = { node: nodeId, address: target.address, error };
      if (target.failing) this.logger.debug("could not pull admin stats; retrying next interval", fields);
      else this.warnings.warn(`poll|${nodeId}`, "could not pull admin stats; retrying next interval", fields);
      target.failing = true;
      return { nodeId, ok: false, signals: 0, error };
    } finally {
      timer.cancel();
      abort.removeEventListener("abort", cancel);
      target.inFlight = false;
    }
  }

  private describe(err: unknown): string {
    if (err instanceof Error && err.name === "TimeoutError") return `timed out after ${this.timeoutMs} ms`;
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `${errorMessage(err)}${cause}`;
  }
}
