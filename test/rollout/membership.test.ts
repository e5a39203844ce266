import { describe, expect, it } from "vitest";
import { inRollout, rolloutHash, topUpPicks } from "../../src/rollout/membership";
import type { RolloutStep } from "../../src/config/rollout-plan";
import { matchesSelector } from "../../src/vocabulary/node-selector";
import type { NodeInfo } from "../../src/vocabulary/node-info";

const node = (id: string, extra: Partial<NodeInfo> = {}): NodeInfo => ({
  id,
  cluster: "edge",
  locality: { region: "eu", zone: "eu-1", subZone: "" },
  metadata: {},
  userAgent: "",
  ...extra,
});
const fleet = Array.from({ length: 1000 }, (_, i) => node(`node-${i}`));

describe("rollout membership", () => {
  it("is deterministic per node and rollout, and independent of who else is connected", () => {
    const steps: RolloutStep[] = [{ percent: 10, bakeMs: 0 }];
    const inAll = fleet.filter((n) => inRollout(n, steps, 0, "guard@v2", {})).map((n) => n.id);
    const half = fleet.slice(0, 500).filter((n) => inRollout(n, steps, 0, "guard@v2", {})).map((n) => n.id);
    expect(half).toEqual(inAll.filter((id) => Number(id.slice(5)) < 500));
    // Close to 10% of 1000 nodes.
    expect(inAll.length).toBeGreaterThan(70);
    expect(inAll.length).toBeLessThan(130);
    // A different rollout id picks different nodes.
    const other = fleet.filter((n) => inRollout(n, steps, 0, "guard@v3", {})).map((n) => n.id);
    expect(other).not.toEqual(inAll);
    expect(rolloutHash("node-1", "guard@v2")).toBe(rolloutHash("node-1", "guard@v2"));
  });

  it("keeps steps cumulative and 100% means every node", () => {
    const steps: RolloutStep[] = [
      { percent: 5, bakeMs: 0 },
      { percent: 50, bakeMs: 0 },
      { percent: 100, bakeMs: 0 },
    ];
    const at = (i: number) => new Set(fleet.filter((n) => inRollout(n, steps, i, "r", {})).map((n) => n.id));
    const [s0, s1, s2] = [at(0), at(1), at(2)];
    for (const id of s0) expect(s1.has(id)).toBe(true);
    expect(s2.size).toBe(1000);
  });

  it("picks the lowest-hash nodes for a `nodes:` step, remembers them and only tops up", () => {
    const steps: RolloutStep[] = [{ nodes: 2, bakeMs: 0 }];
    const first = topUpPicks(steps[0]!, 0, fleet.slice(0, 1), "r", {}, steps)!;
    expect(first).toEqual(["node-0"]);
    const more = topUpPicks(steps[0]!, 0, fleet.slice(0, 50), "r", { "0": first }, steps)!;
    expect(more[0]).toBe("node-0");
    expect(more).toHaveLength(2);
    expect(topUpPicks(steps[0]!, 0, fleet, "r", { "0": more }, steps)).toBeUndefined();
    expect(inRollout(node("node-0"), steps, 0, "r", { "0": more })).toBe(true);
  });

  it("matches selectors by id, cluster, zone and metadata (equality, in, exists, notIn)", () => {
    const n = node("a", { cluster: "edge", metadata: { ring: "canary", tier: "gold" } });
    expect(matchesSelector(n, { cluster: "edge", metadata: { ring: "canary" } })).toBe(true);
    expect(matchesSelector(n, { cluster: ["core", "edge"], zone: "eu-1" })).toBe(true);
    expect(matchesSelector(n, { metadata: { tier: { in: ["gold", "silver"] } } })).toBe(true);
    expect(matchesSelector(n, { metadata: { tier: { notIn: ["gold"] } } })).toBe(false);
    expect(matchesSelector(n, { metadata: { missing: { exists: false }, ring: { exists: true } } })).toBe(true);
    expect(matchesSelector(n, { id: ["b", "c"] })).toBe(false);
  });
});
