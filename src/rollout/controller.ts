/**
 * The rollout controller: moves a new filter version across the fleet step
 * by step (docs/ROLLOUTS.md). One rollout per filter at a time. Each step
 * widens the set of nodes running the candidate; the step's bake time
 * counts once `minAcked` of its nodes ACKed the candidate, and the step is
 * promoted when the bake ends with every gate holding. A failing gate
 * aborts: the candidate is quarantined through the crash-rollback machinery
 * and every node goes back to the stable version. Canary analysis
 * (analysis.ts) compares the candidate's failure ratio with the stable's in
 * every step: a breach aborts at once, too few requests hold the step after
 * its bake. State is persisted, so a restart resumes mid-bake with the same
 * members.
 */
import { type BackgroundReport, runInBackground } from "../background";
import type { EventLog } from "../events/event-log";
import type { CanaryAnalysis } from "../health/canary-analysis";
import { type ServedFilter, asVersion, settingsOf, versionBytes } from "../config/filter-version";
import type { FilterConfig } from "../config/model";
import { WasmxdsError } from "../errors";
import type { FilterVersions, StateReference } from "../health/filter-versions";
import { type Leadership, alwaysLeader } from "../health/leadership";
import type { HealthMonitor } from "../health/monitor";
import type { StateStore } from "../health/state-store";
import type { Logger } from "../logger";
import { type Clock, type TimerHandle, every, realClock } from "../time/clock";
import type { NodeInfo } from "../vocabulary/node-info";
import { type FailureComparison, StepAnalysis } from "./analysis";
import type { RolloutDecision, RolloutMembership, RolloutSplitResult } from "./decisions";
import { inRollout, membershipOf, topUpPicks } from "./membership";
import type { RolloutPlan } from "../config/rollout-plan";
import { type ActiveRollout, type FilterRollouts, type VersionRef, readRollouts } from "./rollout-state";
import { matchesSelector } from "../vocabulary/node-selector";

export interface RolloutControllerOptions {
  readonly state: StateStore;
  readonly versions: FilterVersions;
  readonly monitor: HealthMonitor;
  readonly events: EventLog;
  readonly logger: Logger;
  /** Module bytes by sha256 (the store). */
  readonly moduleBytes: (sha256: string) => Uint8Array | undefined;
  /** Connected nodes. */
  readonly nodes: () => readonly NodeInfo[];
  /** The filters of the config being served. */
  readonly filters: () => readonly FilterConfig[];
  /** Membership or versions changed: rebuild and regroup. */
  readonly onChange: () => void;
  /** Treat every plan as one 100% step (the `dev` loop). */
  readonly instant?: boolean;
  /** Failure counts of filter versions (health/traffic-counts.ts); without it there is no canary analysis. */
  readonly traffic?: FailureComparison;
  readonly clock?: Clock;
  /**
   * With replicas: only the leader starts, steps, promotes and ends rollouts
   * (the others serve what the stored state says); default: always leader.
   * `nodes` is then the whole fleet, every replica's nodes.
   */
  readonly leadership?: Leadership;
}

export interface GateValues {
  readonly nacks: number;
  readonly crashes: number;
  readonly disconnects: number;
  readonly acked: number;
}

export class RolloutController {
  private readonly now: () => number;
  private readonly clock: Clock;
  private readonly bg: BackgroundReport;
  private timer: TimerHandle | undefined;
  private readonly analysis: StepAnalysis;
  private readonly leadership: Leadership;

  constructor(private readonly o: RolloutControllerOptions) {
    this.leadership = o.leadership ?? alwaysLeader;
    this.clock = o.clock ?? realClock;
    this.now = () => this.clock.now();
    this.bg = { logger: o.logger, events: o.events };
    this.analysis = new StepAnalysis(o.traffic);
  }

  start(intervalMs = 500): void {
    this.timer = every(this.clock, intervalMs, () => {
      try {
        this.tick();
      } catch (err) {
        runInBackground(Promise.reject(err), "rollout tick", this.bg);
      }
    });
  }

  stop(): void {
    this.timer?.cancel();
  }

  rollouts(filter: string): FilterRollouts {
    return readRollouts(this.o.state.get().rollouts[filter]);
  }

  /**
   * The rollout split (control/policies.ts RolloutSplit), called by the
   * pipeline for every filter with the version health lets it serve:
   * returns what nodes outside the rollout run (base) and, during a rollout,
   * what its nodes run (canary), and the decision the folder's version
   * implies (start, supersede, queue, cancel). Reads the state and changes
   * nothing: the pipeline applies the decisions once the publish succeeded
   * (apply), so nothing is persisted or announced in the middle of a rebuild.
   */
  split(candidate: ServedFilter): RolloutSplitResult {
    const name = candidate.filter.name;
    const plan = candidate.filter.rollout;
    const r = this.rollouts(name);
    const ref = refOf(candidate);
    // A module the state names but the store lacks (removed by hand, or lost before it was pinned): serve what exists, say why.
    const lost = [r.stable, r.active?.candidate].find((v) => v !== undefined && v.key !== ref.key && !this.bytesOf(v));
    if (plan && !this.o.instant && lost) return { base: candidate, decision: { kind: "lost", filter: name, ref, lost } };
    if (!plan || this.o.instant || !r.stable) {
      const adopt = r.stable?.key !== ref.key || r.active !== undefined;
      return { base: candidate, ...(adopt && { decision: { kind: "adopt", filter: name, ref, ...(r.active && { cancel: plan ? "instant push (dev mode)" : "the filter has no rollout plan any more" }) } }) };
    }
    const stable = this.served(candidate.filter, r.stable);
    // A replica that does not lead serves the cluster's rollout, not its own folder's other version (docs/REPLICAS.md).
    if (r.active && !this.leadership.isLeader()) {
      const usable = !this.o.versions.isQuarantined(name, r.active.candidate.key) && this.bytesOf(r.active.candidate);
      return { base: stable, ...(usable && { canary: this.served(candidate.filter, r.active.candidate) }) };
    }
    if (ref.key === r.stable.key) {
      // Back on stable: the health monitor quarantined the candidate, or the folder was reverted.
      return { base: stable, ...(r.active && { decision: { kind: "back-to-stable", filter: name, quarantined: this.o.versions.isQuarantined(name, r.active.candidate.key) } }) };
    }
    if (r.active?.candidate.key === ref.key) return { base: stable, canary: candidate };
    if (r.active && plan.onNewVersion === "queue") {
      return { base: stable, canary: this.served(candidate.filter, r.active.candidate), ...(r.queued?.key !== ref.key && { decision: { kind: "queue", filter: name, ref } }) };
    }
    return { base: stable, canary: candidate, decision: { kind: "start", filter: name, ref, plan } };
  }

  /** Applies the decisions of a successful publish (split): persists them and says so in the event log. */
  apply(decisions: readonly RolloutDecision[]): void {
    // A follower's publish implies the same decisions; the leader makes them (and re-publishes when it takes over).
    if (!this.leadership.isLeader()) return;
    for (const d of decisions) {
      const name = d.filter;
      const r = this.rollouts(name);
      switch (d.kind) {
        case "lost": {
          const message = `rollout of "${name}": module ${d.lost.sha256} (in the state file, rollouts.${name}) is not in the module store; the rollout is cancelled and ${plugin(name, d.ref)} becomes the stable version`;
          this.o.logger.warn(message);
          this.o.events.add("state-module-missing", "rollout", message, { filter: name, sha256: d.lost.sha256 });
          this.finish(name, r, "cancelled", "a module of the rollout is not in the module store", false);
          this.save(name, { ...this.rollouts(name), stable: d.ref, active: undefined, queued: undefined });
          break;
        }
        case "adopt":
          if (d.cancel) this.finish(name, r, "cancelled", d.cancel, false);
          this.save(name, { ...this.rollouts(name), stable: d.ref, active: undefined, queued: undefined });
          break;
        case "back-to-stable":
          this.finish(
            name,
            r,
            d.quarantined ? "aborted" : "cancelled",
            d.quarantined ? "the candidate was quarantined by the health monitor" : "the config folder went back to the stable version",
            false,
            d.quarantined ? "health" : "config",
          );
          break;
        case "queue":
          if (!r.active) break;
          this.save(name, { ...r, queued: d.ref });
          this.o.events.add("rollout-queued", "config", `${plugin(name, d.ref)} queued behind the running rollout of ${plugin(name, r.active.candidate)}`, { filter: name });
          break;
        case "start":
          if (r.active) this.finish(name, r, "superseded", `superseded by ${plugin(name, d.ref)}`, false);
          this.begin(name, d.ref, d.plan, "config");
          break;
      }
    }
  }

  /** Modules the rollout state names (stable, candidate, queued versions), with where. */
  references(): StateReference[] {
    return Object.entries(this.o.state.get().rollouts).flatMap(([filter, raw]) => {
      const r = readRollouts(raw);
      const refs: Array<[string, VersionRef | undefined]> = [
        ["stable", r.stable],
        ["active.candidate", r.active?.candidate],
        ["queued", r.queued],
      ];
      return refs.flatMap(([field, ref]) => (ref ? [{ filter, path: `rollouts.${filter}.${field}`, sha256: ref.sha256 }] : []));
    });
  }

  /** Module sha256s rollouts still need: the module store keeps them. */
  pinned(): string[] {
    return this.references().map((r) => r.sha256);
  }

  /** Whether a node runs the candidate of the filter's rollout. */
  isCanary(filter: FilterConfig, node: NodeInfo): boolean {
    return this.membership(filter, node) !== undefined;
  }

  /** Why a node runs the candidate of the filter's rollout (the first step that takes it in), or undefined. */
  membership(filter: FilterConfig, node: NodeInfo): RolloutMembership | undefined {
    const active = this.rollouts(filter.name).active;
    if (!active || !filter.rollout) return undefined;
    const m = membershipOf(node, filter.rollout.steps, active.step, active.id, active.picks);
    return m && { ...m, rolloutId: active.id, currentStep: active.step, steps: filter.rollout.steps.length, candidate: active.candidate.sha256 };
  }

  /** Advances, promotes or aborts running rollouts (on a timer; tests call it directly). */
  tick(): void {
    if (!this.leadership.isLeader()) return;
    for (const filter of this.o.filters()) {
      const r = this.rollouts(filter.name);
      if (!r.active || !filter.rollout) continue;
      this.advance(filter, filter.rollout, r, r.active);
    }
  }

  pause(name: string, cause: string): void {
    this.assertLeader();
    const { r, a } = this.activeOf(name);
    if (a.pausedBakedMs !== null) return;
    const baked = a.bakeStartedAt === null ? 0 : this.now() - a.bakeStartedAt;
    this.save(name, { ...r, active: { ...a, pausedBakedMs: baked } });
    this.o.events.add("rollout-paused", cause, `rollout of ${plugin(name, a.candidate)} paused at step ${a.step + 1}`, { filter: name });
  }

  resume(name: string, cause: string): void {
    this.assertLeader();
    const { r, a } = this.activeOf(name);
    if (a.pausedBakedMs === null) return;
    const bakeStartedAt = a.bakeStartedAt === null ? null : this.now() - a.pausedBakedMs;
    this.save(name, { ...r, active: { ...a, pausedBakedMs: null, bakeStartedAt } });
    this.o.events.add("rollout-resumed", cause, `rollout of ${plugin(name, a.candidate)} resumed at step ${a.step + 1}`, { filter: name });
  }

  /** Moves to the next step now, gates notwithstanding. */
  promote(name: string, cause: string): void {
    this.assertLeader();
    const { r, a } = this.activeOf(name);
    const filter = this.o.filters().find((f) => f.name === name);
    if (!filter?.rollout) throw new WasmxdsError("ROLLOUT_INVALID", `filter "${name}" has no rollout plan`);
    this.nextStep(filter, filter.rollout, r, a, cause);
  }

  abort(name: string, cause: string, reason = "aborted by an operator", evidence?: Record<string, unknown>): void {
    this.assertLeader();
    const { r, a } = this.activeOf(name);
    const written = this.o.versions.quarantine(name, {
      sha256: a.candidate.sha256,
      key: a.candidate.key,
      reason: `rollout ${reason} at step ${a.step + 1}`,
      at: new Date(this.now()).toISOString(),
      nodes: this.members(name, a).map((n) => n.id),
      signals: [],
    });
    runInBackground(written, `saving the quarantine of ${plugin(name, a.candidate)} (rollout aborted) to the state file`, this.bg);
    this.finish(name, r, "aborted", reason, true, cause, evidence);
  }

  /** The canary analysis of the current step, for status and tests. */
  stepAnalysis(name: string): CanaryAnalysis | undefined {
    const r = this.rollouts(name);
    const filter = this.o.filters().find((f) => f.name === name);
    if (!r.active || !r.stable || !filter?.rollout) return undefined;
    return this.analysis.of(name, r.active, r.stable, filter.rollout.gates);
  }

  /** Gate values of the current step, for status and tests. */
  gateValues(name: string): GateValues | undefined {
    const a = this.rollouts(name).active;
    if (!a) return undefined;
    const v = this.o.monitor.versionsOf(name).find((x) => x.key === a.candidate.key);
    const since = a.stepStartedAt;
    const members = new Set(this.members(name, a).map((n) => n.id));
    return {
      nacks: v?.nacks.filter((n) => n.at >= since).length ?? 0,
      crashes: v?.crashes.filter((c) => c.at >= since).reduce((n, c) => n + c.count, 0) ?? 0,
      disconnects: a.stepDisconnects,
      acked: [...(v?.acked ?? [])].filter((id) => members.has(id)).length,
    };
  }

  /** Counts a disconnect of a node that is in a rollout. */
  onDisconnect(node: NodeInfo): void {
    if (!this.leadership.isLeader()) return;
    for (const filter of this.o.filters()) {
      const r = this.rollouts(filter.name);
      if (r.active && this.isCanary(filter, node)) this.save(filter.name, { ...r, active: { ...r.active, stepDisconnects: r.active.stepDisconnects + 1 } });
    }
  }

  /** Connected nodes in the rollout (selected by the filter and in a step so far). */
  members(name: string, a: ActiveRollout): NodeInfo[] {
    const filter = this.o.filters().find((f) => f.name === name);
    if (!filter?.rollout) return [];
    return this.eligible(filter).filter((n) => inRollout(n, filter.rollout!.steps, a.step, a.id, a.picks));
  }

  eligible(filter: FilterConfig): NodeInfo[] {
    return this.o.nodes().filter((n) => !filter.selector || matchesSelector(n, filter.selector));
  }

  private advance(filter: FilterConfig, plan: RolloutPlan, r: FilterRollouts, a: ActiveRollout): void {
    const name = filter.name;
    if (this.o.versions.isQuarantined(name, a.candidate.key)) {
      this.finish(name, r, "aborted", "the candidate was quarantined by the health monitor", true, "health");
      return;
    }
    const step = plan.steps[a.step];
    if (!step) return;
    const picks = topUpPicks(step, a.step, this.eligible(filter), a.id, a.picks, plan.steps);
    if (picks) {
      a = { ...a, picks: { ...a.picks, [String(a.step)]: picks } };
      this.save(name, { ...r, active: a });
      this.o.onChange();
    }
    const g = this.gateValues(name)!;
    const gates = plan.gates;
    const failed =
      g.nacks > gates.maxNacks
        ? `${g.nacks} NACK(s) > maxNacks ${gates.maxNacks}`
        : g.crashes > gates.maxCrashes
          ? `${g.crashes} crash signal(s) > maxCrashes ${gates.maxCrashes}`
          : g.disconnects > gates.maxDisconnects
            ? `${g.disconnects} disconnect(s) of rollout nodes > maxDisconnects ${gates.maxDisconnects}`
            : undefined;
    if (failed) {
      this.abort(name, "rollout gates", `gate failed: ${failed}`);
      return;
    }
    const analysis = r.stable ? this.analysis.of(name, a, r.stable, gates) : undefined;
    if (analysis?.outcome === "fail") {
      this.abort(name, "rollout gates", `canary analysis failed: ${analysis.summary}`, { analysis });
      return;
    }
    if (a.pausedBakedMs !== null) return;
    if (a.bakeStartedAt === null) {
      if (g.acked < gates.minAcked) return;
      a = { ...a, bakeStartedAt: this.now() };
      this.save(name, { ...this.rollouts(name), active: a });
    }
    if (this.now() - (a.bakeStartedAt ?? this.now()) < step.bakeMs) return;
    // The bake is over; too few requests (or a ratio over the limit, not yet significant) hold the step.
    if (analysis?.outcome === "wait") {
      if (this.analysis.firstWait(name, a)) {
        this.o.events.add("rollout-waiting", "rollout gates", `rollout of ${plugin(name, a.candidate)} waits at step ${a.step + 1} after its bake: ${analysis.summary}`, {
          filter: name,
          step: a.step + 1,
          analysis,
        });
      }
      return;
    }
    this.nextStep(filter, plan, this.rollouts(name), a, "rollout gates", analysis);
  }

  private nextStep(filter: FilterConfig, plan: RolloutPlan, r: FilterRollouts, a: ActiveRollout, cause: string, analysis?: CanaryAnalysis): void {
    const name = filter.name;
    const next = a.step + 1;
    if (next >= plan.steps.length) {
      this.finish(name, r, "completed", `all ${plan.steps.length} steps passed`, false, cause, analysis && { analysis });
      return;
    }
    const active: ActiveRollout = { ...a, step: next, stepStartedAt: this.now(), bakeStartedAt: null, pausedBakedMs: null, stepDisconnects: 0 };
    this.save(name, { ...r, active });
    this.o.events.add("rollout-step", cause, `rollout of ${plugin(name, a.candidate)} promoted to step ${next + 1} of ${plan.steps.length}`, {
      filter: name,
      step: next + 1,
      ...(analysis && { analysis }),
    });
    this.o.onChange();
  }

  private begin(name: string, candidate: VersionRef, plan: RolloutPlan, cause: string): void {
    const now = this.now();
    const active: ActiveRollout = {
      id: `${name}@${candidate.key}`,
      candidate,
      startedAt: now,
      step: 0,
      stepStartedAt: now,
      bakeStartedAt: null,
      pausedBakedMs: null,
      picks: {},
      stepDisconnects: 0,
    };
    this.save(name, { ...this.rollouts(name), active, queued: undefined });
    this.o.events.add("rollout-started", cause, `rollout of ${plugin(name, candidate)} started: ${plan.steps.length} step(s)`, { filter: name, sha256: candidate.sha256 });
  }

  private finish(
    name: string,
    r: FilterRollouts,
    outcome: "completed" | "aborted" | "superseded" | "cancelled",
    reason: string,
    notify: boolean,
    cause = "config",
    evidence?: Record<string, unknown>,
  ): void {
    const a = r.active;
    if (!a) return;
    const history = [...r.history, { id: a.id, sha256: a.candidate.sha256, outcome, reason, at: this.now() }].slice(-20);
    const completed = outcome === "completed";
    const next: FilterRollouts = { ...r, active: undefined, history, ...(completed && { stable: a.candidate }) };
    this.save(name, next);
    this.o.events.add(`rollout-${outcome}`, cause, `rollout of ${plugin(name, a.candidate)} ${outcome}: ${reason}`, { filter: name, sha256: a.candidate.sha256, ...evidence });
    if (completed) runInBackground(this.o.versions.markGood(name, a.candidate).written, `saving ${plugin(name, a.candidate)} as known-good to the state file`, this.bg);
    const filter = this.o.filters().find((f) => f.name === name);
    if (completed && r.queued && filter?.rollout) this.begin(name, r.queued, filter.rollout, "queue");
    if (notify) this.o.onChange();
    else if (completed) this.o.onChange();
  }

  /** Operator steps go to the leader: a replica that does not lead says which one does. */
  private assertLeader(): void {
    if (!this.leadership.isLeader()) throw new WasmxdsError("NOT_LEADER", `this replica does not lead the cluster; ask the leader (${this.leadership.describeLeader()})`);
  }

  private activeOf(name: string): { r: FilterRollouts; a: ActiveRollout } {
    const r = this.rollouts(name);
    if (!r.active) throw new WasmxdsError("ROLLOUT_INVALID", `filter "${name}" has no rollout in progress`);
    return { r, a: r.active };
  }

  /** A version's module bytes: from the store, or none needed (a module only on the Envoy hosts). */
  private bytesOf(ref: VersionRef): Uint8Array | undefined {
    return versionBytes(ref.settings, this.o.moduleBytes(ref.sha256));
  }

  private served(filter: FilterConfig, ref: VersionRef): ServedFilter {
    const bytes = this.bytesOf(ref);
    if (!bytes) throw new WasmxdsError("ROLLOUT_INVALID", `filter "${filter.name}": module ${ref.sha256.slice(0, 8)} of the stable version is not in the module store`);
    return { filter: asVersion(filter, ref.settings, ref.sha256), module: { sha256: ref.sha256, bytes }, key: ref.key };
  }

  private save(name: string, r: FilterRollouts): void {
    runInBackground(this.o.state.update((s) => ({ ...s, rollouts: { ...s.rollouts, [name]: r } })), `saving the rollout state of "${name}"`, this.bg);
  }
}

function refOf(s: ServedFilter): VersionRef {
  return { sha256: s.module.sha256, key: s.key, settings: settingsOf(s.filter) };
}

function plugin(name: string, v: VersionRef): string {
  return `${name}@${v.sha256.slice(0, 8)}`;
}
