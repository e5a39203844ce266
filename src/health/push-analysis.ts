/**
 * Canary analysis after a plain push (a filter without a rollout plan): the
 * new version is compared with the version it replaced, on the same
 * listeners, for `health.window` after the push (docs/HEALTH.md "Canary
 * analysis"). Every node moves at once, so the reference is what the
 * previous version served in the REFERENCE_MS before the push, together
 * with whatever nodes not yet moved still serve; the statistics are
 * canary-analysis.ts. A breach quarantines the version and republishes,
 * which puts the filter back on its last known-good version (the same
 * rollback the health monitor does for crashes, with `health.rollback`
 * false recording it only). Filters with a rollout plan are judged by
 * their rollout's own analysis (rollout/analysis.ts), step by step.
 */
import { type BackgroundReport, runInBackground } from "../background";
import type { ServedFilter } from "../config/filter-version";
import type { HealthPolicy } from "../config/model";
import type { EventLog } from "../events/event-log";
import type { Logger } from "../logger";
import { type Clock, type TimerHandle, every, realClock } from "../time/clock";
import { type CanaryAnalysis, analyseCanary } from "./canary-analysis";
import type { FilterVersions } from "./filter-versions";
import { type Leadership, alwaysLeader } from "./leadership";
import type { TrafficCounts } from "./traffic-counts";

/** How long before a push the previous version's requests count as the reference. */
export const PUSH_REFERENCE_MS = 5 * 60_000;

export interface PushAnalysisOptions {
  readonly traffic: Pick<TrafficCounts, "compare">;
  readonly versions: FilterVersions;
  readonly events: EventLog;
  readonly logger: Logger;
  /** Rebuild after a quarantine (the selection then falls back to known-good). */
  readonly republish: () => Promise<unknown>;
  readonly clock?: Clock;
  /** With replicas, only the leader quarantines (default: always leader). */
  readonly leadership?: Leadership;
}

interface Trial {
  readonly served: ServedFilter;
  readonly previous: ServedFilter;
  readonly since: number;
}

export class PushAnalysis {
  private readonly clock: Clock;
  private readonly bg: BackgroundReport;
  /** The base version each filter served at the last publish. */
  private readonly last = new Map<string, ServedFilter>();
  private readonly trials = new Map<string, Trial>();
  private timer: TimerHandle | undefined;

  constructor(private readonly o: PushAnalysisOptions) {
    this.clock = o.clock ?? realClock;
    this.bg = { logger: o.logger, events: o.events };
  }

  start(intervalMs = 1000): void {
    this.timer = every(this.clock, intervalMs, () => this.evaluate());
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** After every publish, with the base versions: a filter without a rollout plan that changed version starts a trial. */
  served(base: ReadonlyMap<string, ServedFilter>): void {
    for (const [name, s] of base) {
      const before = this.last.get(name);
      this.last.set(name, s);
      if (!before || before.key === s.key) continue;
      this.trials.delete(name);
      // A plan's own analysis judges it; a known-good version coming back (a rollback) is not on trial.
      if (s.filter.rollout || this.o.versions.knownGood(name).some((g) => g.key === s.key)) continue;
      this.trials.set(name, { served: s, previous: before, since: this.clock.now() });
    }
    for (const name of [...this.last.keys()]) {
      if (base.has(name)) continue;
      this.last.delete(name);
      this.trials.delete(name);
    }
  }

  /** The analysis of a filter on trial now, for status and tests. */
  analysis(name: string): CanaryAnalysis | undefined {
    const t = this.trials.get(name);
    return t && this.analyse(t);
  }

  /** Judges every version on trial (on the timer; tests call it directly). */
  evaluate(): void {
    if (!(this.o.leadership ?? alwaysLeader).isLeader()) return;
    const now = this.clock.now();
    for (const [name, t] of [...this.trials]) {
      const policy = t.served.filter.health;
      if (now - t.since > policy.windowMs || this.o.versions.isQuarantined(name, t.served.key)) {
        this.trials.delete(name);
        continue;
      }
      const a = this.analyse(t);
      if (a.outcome !== "fail") continue;
      this.trials.delete(name);
      this.breach(name, t, a, policy);
    }
  }

  private analyse(t: Trial): CanaryAnalysis {
    const name = t.served.filter.name;
    const { candidate, stable } = this.o.traffic.compare(name, t.served.key, t.since, t.previous.key, t.since - PUSH_REFERENCE_MS);
    return analyseCanary(candidate, stable, t.served.filter.health);
  }

  private breach(name: string, t: Trial, analysis: CanaryAnalysis, policy: HealthPolicy): void {
    const plugin = `${name}@${t.served.module.sha256.slice(0, 8)}`;
    const why = `canary analysis against ${name}@${t.previous.module.sha256.slice(0, 8)} failed: ${analysis.summary}`;
    if (!policy.rollback) {
      this.o.events.add("breach", "health", `${plugin} breached its health policy (rollback disabled): ${why}`, { filter: name, sha256: t.served.module.sha256, analysis });
      return;
    }
    const good = this.o.versions.knownGood(name).find((g) => g.key !== t.served.key && !this.o.versions.isQuarantined(name, g.key));
    const written = this.o.versions.quarantine(name, {
      sha256: t.served.module.sha256,
      key: t.served.key,
      reason: why,
      at: new Date(this.clock.now()).toISOString(),
      nodes: [],
      signals: [],
    });
    runInBackground(written, `saving the quarantine of ${plugin} to the state file`, this.bg);
    const target = good ? `rolled back to ${name}@${good.sha256.slice(0, 8)}` : "quarantined, but there is no known-good version to roll back to";
    this.o.events.add("rollback", "health", `${plugin} ${target}: ${why}`, { filter: name, sha256: t.served.module.sha256, lastGood: good?.sha256 ?? null, analysis });
    this.o.logger.error("filter version rolled back by canary analysis", { filter: name, version: t.served.module.sha256.slice(0, 8), to: good?.sha256.slice(0, 8) });
    runInBackground(this.o.republish(), `republishing after the rollback of ${plugin}`, this.bg);
  }
}
