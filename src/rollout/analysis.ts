/**
 * Canary analysis in a rollout step: which counts are compared, and since
 * when (docs/ROLLOUTS.md "Canary analysis"). The candidate is judged on
 * what its nodes served since the step started (each step's wider slice is
 * judged afresh); the stable reference is what the stable version served on
 * the same listeners since REFERENCE_MS before the rollout started, so a
 * step where every node runs the candidate (a last 100% step, or a
 * one-step plan) still has a reference. The statistics are in
 * health/canary-analysis.ts.
 */
import type { RolloutGates } from "../config/rollout-plan";
import { type CanaryAnalysis, analyseCanary } from "../health/canary-analysis";
import type { ActiveRollout, VersionRef } from "./rollout-state";

/** How long before the rollout started the stable's requests count as the reference. */
export const REFERENCE_MS = 5 * 60_000;

/** What the analysis reads: health/traffic-counts.ts TrafficCounts meets it. */
export interface FailureComparison {
  compare(
    filter: string,
    candidateKey: string,
    candidateSince: number,
    stableKey: string,
    stableSince: number,
  ): { candidate: { failed: number; total: number }; stable: { failed: number; total: number } };
}

export class StepAnalysis {
  /** Per filter, the rollout step of the last `rollout-waiting` event, so each step says it once. */
  private readonly waited = new Map<string, string>();

  constructor(private readonly traffic: FailureComparison | undefined) {}

  /** The step's analysis, or undefined without traffic counts. */
  of(filter: string, a: ActiveRollout, stable: VersionRef, gates: RolloutGates): CanaryAnalysis | undefined {
    if (!this.traffic) return undefined;
    const { candidate, stable: reference } = this.traffic.compare(filter, a.candidate.key, a.stepStartedAt, stable.key, a.startedAt - REFERENCE_MS);
    return analyseCanary(candidate, reference, gates);
  }

  /** True the first time a step waits (for one event per step). */
  firstWait(filter: string, a: ActiveRollout): boolean {
    const key = `${a.id}#${a.step}#${a.stepStartedAt}`;
    if (this.waited.get(filter) === key) return false;
    this.waited.set(filter, key);
    return true;
  }
}
