/**
 * Who is in a rollout. Percent steps use a stable hash of node id and
 * rollout id, so membership does not depend on who else is connected: the
 * same nodes stay canaries across restarts and reconnects, and a node that
 * joins mid-rollout lands where it always would. `nodes: N` steps pick the
 * N lowest-hash nodes present when the step starts and remember them
 * (topped up as nodes join, never reshuffled). Steps are cumulative.
 */
import { createHash } from "node:crypto";
import type { NodeInfo } from "../vocabulary/node-info";
import type { RolloutStep } from "../config/rollout-plan";
import { describeSelector, matchesSelector } from "../vocabulary/node-selector";

/** A number in [0, 1) fixed for (node, rollout). */
export function rolloutHash(nodeId: string, rolloutId: string): number {
  return createHash("sha256").update(rolloutId).update("\0").update(nodeId).digest().readUInt32BE(0) / 2 ** 32;
}

/** Whether a node is in the rollout at step `upTo` (inclusive), given the remembered `nodes:` picks. */
export function inRollout(node: NodeInfo, steps: readonly RolloutStep[], upTo: number, rolloutId: string, picks: Readonly<Record<string, readonly string[]>>): boolean {
  for (let i = 0; i <= upTo && i < steps.length; i++) {
    const s = steps[i]!;
    if (s.percent !== undefined && (s.percent >= 100 || rolloutHash(node.id, rolloutId) * 100 < s.percent)) return true;
    if (s.selector !== undefined && matchesSelector(node, s.selector)) return true;
    if (s.nodes !== undefined && picks[String(i)]?.includes(node.id)) return true;
  }
  return false;
}

/** The first step (up to `upTo`) that takes the node in, and by which rule; undefined when none does. */
export function membershipOf(
  node: NodeInfo,
  steps: readonly RolloutStep[],
  upTo: number,
  rolloutId: string,
  picks: Readonly<Record<string, readonly string[]>>,
): { readonly step: number; readonly by: "nodes" | "percent" | "selector"; readonly detail: string } | undefined {
  for (let i = 0; i <= upTo && i < steps.length; i++) {
    const s = steps[i]!;
    if (s.percent !== undefined && (s.percent >= 100 || rolloutHash(node.id, rolloutId) * 100 < s.percent)) {
      return { step: i, by: "percent", detail: `hash ${(rolloutHash(node.id, rolloutId) * 100).toFixed(2)} < ${s.percent}%` };
    }
    if (s.selector !== undefined && matchesSelector(node, s.selector)) return { step: i, by: "selector", detail: `matches ${describeSelector(s.selector)}` };
    if (s.nodes !== undefined && picks[String(i)]?.includes(node.id)) return { step: i, by: "nodes", detail: `one of the ${s.nodes} node(s) picked when step ${i + 1} began` };
  }
  return undefined;
}

/**
 * Picks for a `nodes: N` step: keeps earlier picks, adds the lowest-hash
 * eligible nodes not already in the rollout until there are N.
 */
export function topUpPicks(
  step: RolloutStep,
  stepIndex: number,
  eligible: readonly NodeInfo[],
  rolloutId: string,
  picks: Readonly<Record<string, readonly string[]>>,
  steps: readonly RolloutStep[],
): string[] | undefined {
  if (step.nodes === undefined) return undefined;
  const current = [...(picks[String(stepIndex)] ?? [])];
  if (current.length >= step.nodes) return undefined;
  const already = (n: NodeInfo) => current.includes(n.id) || inRollout(n, steps, stepIndex - 1, rolloutId, picks);
  const extra = eligible
    .filter((n) => !already(n))
    .sort((a, b) => rolloutHash(a.id, rolloutId) - rolloutHash(b.id, rolloutId) || (a.id < b.id ? -1 : 1))
    .slice(0, step.nodes - current.length)
    .map((n) => n.id);
  return extra.length > 0 ? [...current, ...extra] : undefined;
}
