/**
 * When the evidence about a filter version condemns it (docs/HEALTH.md,
 * "Who can condemn a version"). Two conditions, both needed:
 *
 * 1. Enough of it: more NACKs than `maxNacks`, or more crash signals than
 *    `maxCrashes` within `window`.
 * 2. From enough of the fleet: the nodes complaining (a NACK, or a crash in
 *    the window) are at least `nodeShare` of the nodes holding the version
 *    (connected nodes it was sent to, and the complainers). So one node
 *    cannot condemn a version other nodes run healthily, while a canary
 *    slice of one node (1 of 1) still aborts on its first NACK and a
 *    version every node rejects goes at once.
 *
 * Only nodes connected over xDS that were sent the version can complain at
 * all; the monitor drops other signals before they get here.
 */
import type { HealthPolicy } from "../config/model";
import type { VersionHealth } from "./version-health";

export type Verdict =
  | { readonly kind: "healthy" }
  /** Enough evidence, but from too few of the nodes holding it. */
  | { readonly kind: "held-back"; readonly why: string; readonly complainers: number; readonly holders: number }
  | { readonly kind: "breach"; readonly why: string };

export function judge(v: VersionHealth, policy: HealthPolicy, now: number): Verdict {
  const crashes = v.crashesInWindow(policy.windowMs, now);
  let what: string;
  if (v.nackCount > policy.maxNacks) {
    what = `${v.nackCount} NACK(s) from ${v.nackers().join(", ")} (tolerated: ${policy.maxNacks}): ${v.nacks[0]?.evidence ?? ""}`;
  } else if (crashes > policy.maxCrashes) {
    const recent = v.crashes.filter((c) => c.at > now - policy.windowMs);
    const kinds = [...new Set(recent.map((c) => c.kind))].join(", ");
    const nodes = [...new Set(recent.map((c) => c.node))];
    what = `${crashes} crash signal(s) (${kinds}) from ${nodes.join(", ")} within ${policy.windowMs / 1000}s (tolerated: ${policy.maxCrashes})`;
  } else {
    return { kind: "healthy" };
  }
  const complainers = v.complainers(policy.windowMs, now);
  const holders = new Set([...v.holders, ...complainers]).size;
  const needed = nodesNeeded(policy.nodeShare, holders);
  const share = `${complainers.length} of ${holders} node(s) holding it`;
  if (complainers.length < needed) {
    return { kind: "held-back", why: `${what}; only ${share} complained, nodeShare ${policy.nodeShare} needs ${needed}`, complainers: complainers.length, holders };
  }
  return { kind: "breach", why: `${what}; ${share}` };
}

/** Complaining nodes needed to condemn a version held by `holders` nodes: at least one, at least nodeShare of them. */
export function nodesNeeded(nodeShare: number, holders: number): number {
  // The epsilon keeps 0.5 x 4 at 2 despite floating point.
  return Math.max(1, Math.ceil(nodeShare * holders - 1e-9));
}
