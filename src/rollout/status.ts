/**
 * The status of each filter's rollout, for the admin API and
 * `wasmxds rollout status`.
 */
import type { FilterConfig } from "../config/model";
import type { RolloutController } from "./controller";
import { DEFAULT_GATES, type RolloutGates, type RolloutStep } from "../config/rollout-plan";
import type { CanaryAnalysis } from "../health/canary-analysis";
import type { RolloutHistoryEntry } from "./rollout-state";
import { describeSelector } from "../vocabulary/node-selector";

export interface VersionView {
  readonly sha256: string;
  readonly plugin: string;
  /** First 8 hex of the settings hash (module plus settings make a version). */
  readonly settings: string;
}

export interface RolloutStatus {
  readonly filter: string;
  readonly state: "running" | "paused" | "idle";
  readonly stable?: VersionView;
  readonly candidate?: VersionView;
  readonly queued?: VersionView;
  readonly step?: { index: number; of: number; description: string; bakeMs: number; bakeLeftMs: number | null; startedAt: string };
  readonly gates: RolloutGates;
  readonly values?: { nacks: number; crashes: number; disconnects: number; acked: number };
  /** The current step's canary analysis (counts, ratios, test results); absent without traffic counts. */
  readonly analysis?: CanaryAnalysis;
  readonly nodes: { eligible: number; onCandidate: number; onStable: number; candidateIds: readonly string[] };
  readonly history: readonly RolloutHistoryEntry[];
}

function analysisOf(controller: RolloutController, name: string): { analysis?: CanaryAnalysis } {
  const analysis = controller.stepAnalysis(name);
  return analysis ? { analysis } : {};
}

export function describeStep(s: RolloutStep): string {
  if (s.nodes !== undefined) return `${s.nodes} node${s.nodes === 1 ? "" : "s"}`;
  if (s.percent !== undefined) return `${s.percent}%`;
  return s.selector ? describeSelector(s.selector) : "?";
}

export function rolloutStatuses(controller: RolloutController, filters: readonly FilterConfig[], now = Date.now()): RolloutStatus[] {
  return filters
    .filter((f) => f.rollout || controller.rollouts(f.name).active)
    .map((f) => {
      const r = controller.rollouts(f.name);
      const a = r.active;
      const plan = f.rollout;
      const eligible = controller.eligible(f);
      const members = a ? controller.members(f.name, a) : [];
      // Same module, new settings is a new version too: show both parts.
      const ref = (v: { sha256: string; key: string } | undefined) =>
        v && { sha256: v.sha256, plugin: `${f.name}@${v.sha256.slice(0, 8)}`, settings: v.key.slice(v.key.indexOf(":") + 1, v.key.indexOf(":") + 9) };
      const step = a && plan ? plan.steps[a.step] : undefined;
      const baked = a ? (a.pausedBakedMs ?? (a.bakeStartedAt === null ? null : now - a.bakeStartedAt)) : null;
      return {
        filter: f.name,
        state: a ? (a.pausedBakedMs !== null ? "paused" : "running") : "idle",
        ...(r.stable && { stable: ref(r.stable) }),
        ...(a && { candidate: ref(a.candidate) }),
        ...(r.queued && { queued: ref(r.queued) }),
        ...(a &&
          step &&
          plan && {
            step: {
              index: a.step + 1,
              of: plan.steps.length,
              description: describeStep(step),
              bakeMs: step.bakeMs,
              bakeLeftMs: baked === null ? null : Math.max(0, step.bakeMs - baked),
              startedAt: new Date(a.stepStartedAt).toISOString(),
            },
          }),
        gates: plan?.gates ?? { ...DEFAULT_GATES, maxDisconnects: 0, minAcked: 0 },
        ...(a && { values: controller.gateValues(f.name) }),
        ...(a && analysisOf(controller, f.name)),
        nodes: {
          eligible: eligible.length,
          onCandidate: members.length,
          onStable: eligible.length - members.length,
          candidateIds: members.map((n) => n.id).sort(),
        },
        history: r.history,
      } satisfies RolloutStatus;
    });
}
