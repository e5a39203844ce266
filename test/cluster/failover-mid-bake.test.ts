/**
 * Leader failover in the middle of a rollout (issue 19): replica A leads and
 * starts a rollout whose first step (the canary, connected to replica B)
 * bakes for 60 s of the control plane's clock. Half-way through the bake A
 * dies like kill -9 (its lease is left to expire; TTL 2 s of real time). B
 * leads within the TTL, continues the same step with the same bake start,
 * promotes it once when the bake ends, and completes the rollout: no step
 * repeated or lost, each decision once in the cluster's log.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { SimFleet } from "../../src/sim";
import type { ActiveRollout } from "../../src/rollout/rollout-state";
import { advanceUntil, testClock } from "../helpers/clock";
import { makeFolder, removeFolder, rolloutYaml, writeVersion } from "../helpers/config-folder";
import { type TestEtcd, describeWithEtcd, startEtcd } from "../helpers/etcd";
import { runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { type Replica, crashReplica, eventsOf, startReplica, stopReplica, testPrefix } from "./replica-harness";

const STEPS = `        - { selector: { metadata: { ring: canary } }, bake: 60s }
        - { percent: 100 }`;

describeWithEtcd("leader failover mid-bake", () => {
  let etcd: TestEtcd;
  let dir: string;
  const clock = testClock();
  let a: Replica;
  let b: Replica;
  const fleets: SimFleet[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    ({ dir } = await makeFolder(rolloutYaml({ steps: STEPS })));
    const prefix = testPrefix();
    a = await startReplica(dir, "a", { endpoints: [etcd.endpoint], prefix, leaseTtlSec: 2 }, { clock });
    b = await startReplica(dir, "b", { endpoints: [etcd.endpoint], prefix, leaseTtlSec: 2 }, { clock });
  }, 60_000);

  afterAll(async () => {
    for (const f of fleets) await f.stop();
    await stopReplica(b);
    await etcd?.close();
    if (dir) await removeFolder(dir);
  });

  it("the new leader continues the bake and promotes once", async () => {
    await waitFor("a leads", () => a.app.cluster!.election.isLeader());
    const onB = new SimFleet({
      nodes: 2,
      idPrefix: "on-b-",
      xdsAddress: `127.0.0.1:${b.app.xdsAddress.port}`,
      perNode: (i) => ({ cluster: "edge", metadata: { ring: i === 0 ? "canary" : "main" } }),
    });
    const onA = new SimFleet({ nodes: 1, idPrefix: "on-a-", xdsAddress: `127.0.0.1:${a.app.xdsAddress.port}`, perNode: () => ({ cluster: "edge", metadata: { ring: "main" } }) });
    fleets.push(onB, onA);
    for (const f of fleets) await f.start();
    await waitFor("fleets LIVE", () => fleets.every((f) => f.summary().live === f.nodes.length), 15_000);

    const v2 = await writeVersion(dir, "v2", rolloutYaml({ steps: STEPS }));
    for (const r of [a, b]) expect((await r.app.reload()).ok).toBe(true);
    const active = () => b.app.rollouts.rollouts("guard").active;
    // B learns the rollout from etcd and gives its canary the candidate; its ACK reaches A, whose bake starts.
    const baking = await advanceUntil(clock, "the canary's bake started", () => active()?.bakeStartedAt ?? undefined, { stepMs: 100, realTimeoutMs: 30_000 });
    await waitFor("the canary on B runs v2", () => runningGuard(onB.nodes[0]!) === v2);
    expect(runningGuard(onB.nodes[1]!)).not.toBe(v2);
    await advanceUntil(clock, "half the bake", () => clock.now() - baking >= 30_000, { stepMs: 1000 });
    const before = active() as ActiveRollout;
    expect(before).toMatchObject({ step: 0, bakeStartedAt: baking });

    await onA.stop();
    const killedAt = Date.now();
    await crashReplica(a);
    await waitFor("b leads", () => b.app.cluster!.election.isLeader(), 10_000);
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeLessThan(2000 + 1500);

    // Same step, same bake start: the bake is not repeated.
    expect(active()).toMatchObject({ id: before.id, step: 0, bakeStartedAt: baking });
    await advanceUntil(clock, "promoted to step 2", () => active()?.step === 1 || b.app.rollouts.rollouts("guard").history.length > 0, { stepMs: 1000 });
    expect(clock.now() - baking).toBeGreaterThanOrEqual(60_000);
    await advanceUntil(clock, "completed", () => b.app.rollouts.rollouts("guard").history.find((h) => h.outcome === "completed"), { stepMs: 500 });
    await waitFor("every node of B on v2", () => onB.nodes.every((n) => runningGuard(n) === v2), 10_000);

    expect(eventsOf([b], "rollout-step")).toHaveLength(1);
    const log = (await b.app.cluster!.decisions.list()).map((e) => `${e.replica} ${e.event.type}`);
    expect(log.filter((l) => l.endsWith("rollout-started"))).toEqual(["a rollout-started"]);
    expect(log.filter((l) => l.endsWith("rollout-step"))).toEqual(["b rollout-step"]);
    expect(log.filter((l) => l.endsWith("rollout-completed"))).toEqual(["b rollout-completed"]);
    console.info(`failover: replica b led ${takeover} ms after replica a was killed (lease TTL 2 s)`);
  }, 90_000);
});
