/**
 * Rollout control: a restart in the middle of a bake resumes at the same
 * step with the same nodes; pause stops the bake clock; promote moves on;
 * a node joining mid-rollout is placed by its hash; queued versions wait.
 * The control plane runs on a FakeClock the test advances (bakes to the
 * millisecond, no waiting through them); the fleet answers in real time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { SimNode, type SimFleet } from "../../src/sim";
import { inRollout } from "../../src/rollout/membership";
import type { FakeClock } from "../../src/time/fake-clock";
import { advanceUntil, testClock } from "../helpers/clock";
import { waitFor } from "../helpers/wait";
import { startTestApp } from "../helpers/app";
import { makeFolder, rolloutYaml, writeVersion } from "../helpers/config-folder";
import { cleanup, runningGuard, startFleet } from "../helpers/fleet";

const SLOW_STEPS = `        - { nodes: 2, bake: 4s }
        - { percent: 50, bake: 60s }
        - { percent: 100 }`;

describe("rollout control", () => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;
  let v2: string;
  let port: number;
  let clock: FakeClock;
  const extra: SimNode[] = [];
  const admin = (path: string) => fetch(`http://127.0.0.1:${app.adminAddress!.port}${path}`, { method: "POST", headers: { "content-type": "application/json" } });
  const active = () => app.rollouts.rollouts("guard").active;

  beforeAll(async () => {
    ({ dir } = await makeFolder(rolloutYaml({ steps: SLOW_STEPS })));
    clock = testClock();
    app = await startTestApp(dir, { clock });
    port = app.xdsAddress.port;
    fleet = await startFleet(port);
    v2 = await writeVersion(dir, "v2", rolloutYaml({ steps: SLOW_STEPS }));
    expect((await app.reload()).ok).toBe(true);
  });
  afterAll(async () => {
    for (const n of extra) await n.stop();
    await cleanup(fleet, app, dir);
  });

  it("resumes after a restart in the middle of a bake, with the same step, nodes and bake clock", async () => {
    await advanceUntil(clock, "bake started", () => active()?.bakeStartedAt ?? undefined, { stepMs: 50 });
    const before = active()!;
    const members = fleet.nodes.filter((n) => runningGuard(n) === v2).map((n) => n.id);
    expect(members).toHaveLength(2);
    await app.close();
    app = await startTestApp(dir, { clock, xdsAddress: { host: "127.0.0.1", port } });
    const after = active()!;
    expect(after.step).toBe(0);
    expect(after.picks).toEqual(before.picks);
    expect(after.bakeStartedAt).toBe(before.bakeStartedAt);
    await waitFor("fleet back", () => app.xds.streamStatuses().length === 20, 15_000);
    await waitFor("same canaries", () => fleet.nodes.filter((n) => runningGuard(n) === v2).map((n) => n.id).join() === members.join());
    // The admin API reads the bake on the same clock (before: on the process clock, so a FakeClock's bake looked over or never started).
    const status = (await (await fetch(`http://127.0.0.1:${app.adminAddress!.port}/v1/rollouts/guard`)).json()) as { step: { bakeLeftMs: number } };
    expect(status.step.bakeLeftMs).toBe(4000 - (clock.now() - after.bakeStartedAt!));
    // The bake ends on the original clock: step 2 comes 4 s after the bake started, not 4 s after the restart.
    clock.advance(after.bakeStartedAt! + 3999 - clock.now());
    expect(active()?.step).toBe(0);
    clock.advance(100);
    expect(active()?.step).toBe(1);
  });

  it("places nodes joining mid-rollout by their hash", async () => {
    const a = active()!;
    for (const id of ["late-1", "late-2", "late-3", "late-4"]) {
      const n = new SimNode({ id, cluster: "edge", xdsAddress: `127.0.0.1:${port}` });
      extra.push(n);
      await n.start();
    }
    await waitFor("late nodes live", () => extra.every((n) => n.serverState === "LIVE"), 10_000);
    const steps = [{ nodes: 2, bakeMs: 0 }, { percent: 50, bakeMs: 0 }];
    for (const n of extra) {
      const expected = inRollout(n.identity as never, steps, 1, a.id, a.picks) ? v2 : "v1";
      await waitFor(`${n.id} placed`, () => (expected === v2 ? runningGuard(n) === v2 : runningGuard(n) !== v2 && runningGuard(n) !== undefined));
    }
  });

  it("pauses the bake clock, promotes on demand and resumes", async () => {
    expect(active()!.step).toBe(1);
    expect((await admin("/v1/rollouts/guard/pause")).status).toBe(200);
    const baked = active()!.pausedBakedMs;
    expect(baked).not.toBeNull();
    // Twice the step's 60 s bake goes by: paused, the step holds and its bake clock stands.
    clock.advance(120_000);
    expect(active()).toMatchObject({ step: 1, pausedBakedMs: baked });
    const status = (await (await fetch(`http://127.0.0.1:${app.adminAddress!.port}/v1/rollouts/guard`)).json()) as { state: string; step: { index: number } };
    expect(status).toMatchObject({ state: "paused", step: { index: 2 } });
    expect((await admin("/v1/rollouts/guard/promote")).status).toBe(200);
    expect(active()!.step).toBe(2);
    expect((await admin("/v1/rollouts/guard/resume")).status).toBe(200);
    await advanceUntil(clock, "completed", () => app.rollouts.rollouts("guard").history.some((h) => h.outcome === "completed"), { stepMs: 50 });
    await waitFor("everyone on v2", () => fleet.nodes.filter((n) => n.identity.cluster === "edge").every((n) => runningGuard(n) === v2));
    const causes = app.events.list({ types: ["rollout-paused", "rollout-step", "rollout-resumed"] }).map((e) => `${e.type}:${e.cause}`);
    expect(causes).toContain("rollout-paused:operator");
    expect(causes).toContain("rollout-step:operator");
  });

  it("aborts on an operator's command and quarantines the candidate", async () => {
    const v3 = await writeVersion(dir, "v3", rolloutYaml({ steps: SLOW_STEPS }));
    expect((await app.reload()).ok).toBe(true);
    await waitFor("v3 rollout", () => active()?.candidate.sha256 === v3);
    expect((await admin("/v1/rollouts/guard/abort")).status).toBe(200);
    expect(active()).toBeUndefined();
    expect(app.versions.quarantined("guard").map((q) => q.sha256)).toContain(v3);
    await waitFor("all back on v2", () => fleet.nodes.filter((n) => n.identity.cluster === "edge").every((n) => runningGuard(n) === v2));
  });
});
