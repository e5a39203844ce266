/**
 * Kill -9 of the leader in a loop during a rollout (issue 19, bounded: four
 * kills). Three replicas share an injected clock; each time the rollout is
 * in the middle of a bake, the leader is killed (its lease left to expire,
 * TTL 2 s) and a fresh replica joins in its place. Every new leader carries
 * on from the stored state: steps only move forward, one at a time, each
 * bake counted from the stored start; the rollout completes with every step
 * promoted exactly once and nothing in the log of decisions twice.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ActiveRollout } from "../../src/rollout/rollout-state";
import { advanceUntil, testClock } from "../helpers/clock";
import { makeFolder, removeFolder, rolloutYaml, writeVersion } from "../helpers/config-folder";
import { type TestEtcd, describeWithEtcd, startEtcd } from "../helpers/etcd";
import { waitFor } from "../helpers/wait";
import { type Replica, crashReplica, startReplica, stopReplica, testPrefix } from "./replica-harness";

const STEPS = `        - { percent: 20, bake: 20s }
        - { percent: 40, bake: 20s }
        - { percent: 60, bake: 20s }
        - { percent: 80, bake: 20s }
        - { percent: 100 }`;
const yaml = () => rolloutYaml({ steps: STEPS, gates: "{ maxNacks: 0, maxCrashes: 0, maxDisconnects: 100, minAcked: 0 }" });

describeWithEtcd("leader killed in a loop during a rollout", () => {
  let etcd: TestEtcd;
  let dir: string;
  let prefix: string;
  const clock = testClock();
  const live: Replica[] = [];
  let next = 0;

  const join = async () => {
    live.push(await startReplica(dir, `r${next++}`, { endpoints: [etcd.endpoint], prefix, leaseTtlSec: 2 }, { clock }));
  };
  const leader = () => live.find((r) => r.app.cluster!.election.isLeader());

  beforeAll(async () => {
    etcd = await startEtcd();
    ({ dir } = await makeFolder(yaml()));
    prefix = testPrefix();
    for (let i = 0; i < 3; i++) await join();
  }, 60_000);

  afterAll(async () => {
    for (const r of live) await stopReplica(r);
    await etcd?.close();
    if (dir) await removeFolder(dir);
  });

  it("loses no step and repeats none", async () => {
    await waitFor("a leader", () => leader(), 10_000);
    await writeVersion(dir, "v2", yaml());
    for (const r of live) expect((await r.app.reload()).ok).toBe(true);
    const state = () => live[live.length - 1]!.app.rollouts.rollouts("guard");
    await waitFor("the rollout started everywhere", () => live.every((r) => r.app.rollouts.rollouts("guard").active), 5000);

    const seen: Array<{ step: number; bakeStartedAt: number | null }> = [];
    for (let kill = 0; kill < 4; kill++) {
      // Into the middle of the current step's bake.
      const step = state().active!.step;
      await advanceUntil(clock, `step ${step + 1} baking`, () => state().active?.step === step && state().active?.bakeStartedAt !== null);
      const a = state().active as ActiveRollout;
      await advanceUntil(clock, "half the bake", () => clock.now() - a.bakeStartedAt! >= 10_000, { stepMs: 1000 });
      seen.push({ step: a.step, bakeStartedAt: a.bakeStartedAt });
      const dead = leader()!;
      live.splice(live.indexOf(dead), 1);
      await crashReplica(dead);
      await join();
      await waitFor(`a new leader after kill ${kill + 1}`, () => leader(), 10_000);
      // The new leader has the same step and bake start: nothing repeated, nothing skipped.
      expect(state().active).toMatchObject({ id: a.id, step: a.step, bakeStartedAt: a.bakeStartedAt });
      await advanceUntil(clock, `promoted past step ${a.step + 1}`, () => (state().active?.step ?? 99) > a.step, { stepMs: 1000, realTimeoutMs: 20_000 });
      expect(state().active?.step ?? 4).toBe(a.step + 1);
    }
    await advanceUntil(clock, "completed", () => state().history.find((h) => h.outcome === "completed"), { stepMs: 1000, realTimeoutMs: 20_000 });
    expect(seen.map((s) => s.step)).toEqual([0, 1, 2, 3]);

    const log = (await live[0]!.app.cluster!.decisions.list()).map((e) => e.event);
    const steps = log.filter((e) => e.type === "rollout-step").map((e) => e.details?.step);
    expect(steps).toEqual([2, 3, 4, 5]);
    expect(log.filter((e) => e.type === "rollout-started")).toHaveLength(1);
    expect(log.filter((e) => e.type === "rollout-completed")).toHaveLength(1);
    expect(state().history.filter((h) => h.outcome === "completed")).toHaveLength(1);
  }, 180_000);
});
