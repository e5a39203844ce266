/**
 * The persisted shape of rollouts (in state.json under "rollouts", one
 * entry per filter). Times are ms since the epoch, so a restarted control
 * plane resumes a bake exactly where it was.
 */
import type { FilterSettings } from "../config/filter-version";

export interface VersionRef {
  readonly sha256: string;
  readonly key: string;
  readonly settings: FilterSettings;
}

export interface ActiveRollout {
  readonly id: string;
  readonly candidate: VersionRef;
  readonly startedAt: number;
  readonly step: number;
  readonly stepStartedAt: number;
  /** When the step reached minAcked; the bake counts from here. */
  readonly bakeStartedAt: number | null;
  /** Set while paused: the bake time already served when it was paused. */
  readonly pausedBakedMs: number | null;
  /** Remembered picks of `nodes:` steps, by step index. */
  readonly picks: Readonly<Record<string, readonly string[]>>;
  readonly stepDisconnects: number;
}

export interface RolloutHistoryEntry {
  readonly id: string;
  readonly sha256: string;
  readonly outcome: "completed" | "aborted" | "superseded" | "cancelled";
  readonly reason: string;
  readonly at: number;
}

export interface FilterRollouts {
  /** The version every node outside the rollout runs. */
  readonly stable?: VersionRef;
  readonly active?: ActiveRollout;
  /** With onNewVersion: queue, the version waiting for the active rollout to end. */
  readonly queued?: VersionRef;
  readonly history: readonly RolloutHistoryEntry[];
}

export function readRollouts(raw: unknown): FilterRollouts {
  const r = raw as Partial<FilterRollouts> | undefined;
  return { ...r, history: Array.isArray(r?.history) ? r.history : [] };
}
