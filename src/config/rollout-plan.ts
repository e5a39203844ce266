/**
 * A rollout plan: steps that widen the set of nodes running a new filter
 * version, each baked for a while under health gates (docs/ROLLOUTS.md).
 */
import type { NodeSelector } from "../vocabulary/node-selector";

export interface RolloutStep {
  /** This many nodes (chosen by a stable hash, then remembered). */
  readonly nodes?: number;
  /** This share of the selected nodes (by a stable hash of node id and rollout id). */
  readonly percent?: number;
  /** The nodes matching this selector. */
  readonly selector?: NodeSelector;
  /** How long the step's gates must hold before the next step; 0 promotes as soon as minAcked is reached. */
  readonly bakeMs: number;
}

export interface RolloutGates {
  /** NACKs of the new version tolerated during a step. */
  readonly maxNacks: number;
  /** Crash signals of the new version tolerated during a step. */
  readonly maxCrashes: number;
  /** Disconnects of nodes in the rollout tolerated during a step. */
  readonly maxDisconnects: number;
  /** Nodes of the step that must have ACKed the new version before its bake time counts. */
  readonly minAcked: number;
  /**
   * Canary analysis (docs/HEALTH.md "Canary analysis"): the candidate's
   * failure ratio (5xx / completed requests; closed / total connections),
   * at most this (0..1; 1 = off, the default).
   */
  readonly maxFailureRatio: number;
  /** The candidate's failure ratio minus the stable's on the same listeners, at most this (default 0.01; 1 = off). */
  readonly maxFailureRatioIncrease: number;
  /** Requests each side needs before the analysis decides; fewer and the step waits (default 100). */
  readonly minRequests: number;
}

export const DEFAULT_GATES: RolloutGates = Object.freeze({
  maxNacks: 0,
  maxCrashes: 0,
  maxDisconnects: 2,
  minAcked: 1,
  maxFailureRatio: 1,
  maxFailureRatioIncrease: 0.01,
  minRequests: 100,
});

export interface RolloutPlan {
  readonly steps: readonly RolloutStep[];
  readonly gates: RolloutGates;
  /**
   * A new version arriving mid-rollout: `supersede` (default) stops the
   * current rollout (its nodes go back to the stable version) and starts the
   * new one from the first step; `queue` lets the current rollout finish
   * (or abort) first.
   */
  readonly onNewVersion: "supersede" | "queue";
}
