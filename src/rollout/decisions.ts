/**
 * What the rollout controller tells the serving pipeline. A rebuild asks it
 * to split each filter's version (RolloutController.split, pure) and gets
 * back the decision the folder implies; the pipeline applies the decisions
 * once the publish succeeded (RolloutController.apply). Nothing is
 * persisted or announced in the middle of a rebuild, and a publish that
 * fails starts or cancels nothing.
 */
import type { ServedFilter } from "../config/filter-version";
import type { RolloutPlan } from "../config/rollout-plan";
import type { VersionRef } from "./rollout-state";

export type RolloutDecision =
  /** A module the rollout state names is gone from the store: cancel, adopt the folder's version as stable. */
  | { readonly kind: "lost"; readonly filter: string; readonly ref: VersionRef; readonly lost: VersionRef }
  /** No plan, dev mode, or no stable version yet: the folder's version is stable (cancelling a rollout if one runs). */
  | { readonly kind: "adopt"; readonly filter: string; readonly ref: VersionRef; readonly cancel?: string }
  /** The folder is back on the stable version (reverted, or the candidate was quarantined): the rollout ends. */
  | { readonly kind: "back-to-stable"; readonly filter: string; readonly quarantined: boolean }
  /** onNewVersion: queue: the version waits for the running rollout. */
  | { readonly kind: "queue"; readonly filter: string; readonly ref: VersionRef }
  /** A new version: a rollout starts at step 1 (superseding a running one). */
  | { readonly kind: "start"; readonly filter: string; readonly ref: VersionRef; readonly plan: RolloutPlan };

export interface RolloutSplitResult {
  /** What nodes outside the rollout run. */
  readonly base: ServedFilter;
  /** During a rollout, what its nodes run. */
  readonly canary?: ServedFilter;
  readonly decision?: RolloutDecision;
}

/** Why a node is in a rollout: the first step that takes it in. */
export interface RolloutMembership {
  readonly rolloutId: string;
  /** The candidate's module sha256. */
  readonly candidate: string;
  /** Index of the step that took the node in (0-based). */
  readonly step: number;
  /** The rollout's current step (0-based) and its number of steps. */
  readonly currentStep: number;
  readonly steps: number;
  /** nodes: picked by hash when the step began; percent: its hash falls under the share; selector: it matches. */
  readonly by: "nodes" | "percent" | "selector";
  readonly detail: string;
}
