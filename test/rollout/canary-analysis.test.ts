/**
 * Canary analysis in rollout steps, against simulated Envoys with traffic
 * that push their stats (http.<stat_prefix>.downstream_rq_5xx and
 * downstream_rq_completed) to the metrics service: a version that answers
 * 500 to 10% of requests without ever trapping is aborted at the first step
 * by maxFailureRatioIncrease, with the evidence in the event and the
 * status; one failing 0.1% against a stable failing 0.1% passes every step;
 * one with too few requests waits after its bake, reported undecided.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import type { FakeClock } from "../../src/time/fake-clock";
import { advanceUntil, testClock } from "../helpers/clock";
import type { SimFleet } from "../../src/sim";
import { rolloutStatuses } from "../../src/rollout/status";
import { waitFor } from "../helpers/wait";
import { startTestApp } from "../helpers/app";
import { makeFolder, rolloutYaml, writeVersion } from "../helpers/config-folder";
import { cleanup, runningGuard, startFleet } from "../helpers/fleet";

const GATES = "{ maxNacks: 0, maxCrashes: 0, maxDisconnects: 2, minAcked: 1, minRequests: 100, maxFailureRatioIncrease: 0.01 }";

interface Setup {
  dir: string;
  app: RunningWasmxds;
  fleet: SimFleet;
}

async function setUp(steps: string, stable: { module: string; configuration: string }, rps: number, clock?: FakeClock): Promise<Setup & { v1: string }> {
  const yaml = rolloutYaml({ steps, gates: GATES, configuration: stable.configuration });
  const { dir } = await makeFolder(yaml);
  const v1 = await writeVersion(dir, "v1", yaml, stable.module);
  const app = await startTestApp(dir, clock && { clock });
  const fleet = await startFleet(app.xdsAddress.port, 6, { traffic: { rps }, metricsService: { flushIntervalMs: 250 } });
  await waitFor("everyone on v1", () => fleet.nodes.every((n) => runningGuard(n) === v1));
  // A fleet that has been serving: the stable version's requests are counted before the rollout starts.
  const key = app.pipeline.nodeVersions("n0").get("guard") ?? "";
  await waitFor("stable requests counted", () => app.traffic.counts("guard", key, 0).nodes === fleet.nodes.length, 15_000);
  return { dir, app, fleet, v1 };
}

function status(app: RunningWasmxds) {
  return rolloutStatuses(app.rollouts, app.pipeline.published?.loaded.config.filters ?? []).find((s) => s.filter === "guard");
}

describe("canary analysis in rollouts", () => {
  let s: Setup | undefined;
  afterEach(async () => {
    if (s) await cleanup(s.fleet, s.app, s.dir);
    s = undefined;
  });

  it("aborts at the first step a version that answers 500 to 10% of requests and never traps", async () => {
    const steps = `        - { nodes: 1, bake: 60s }
        - { percent: 100 }`;
    const setup = await setUp(steps, { module: "good_http", configuration: "{}" }, 100);
    s = setup;
    const bad = await writeVersion(setup.dir, "bad", rolloutYaml({ steps, gates: GATES, configuration: '{"failPermille":100}' }), "fail_ratio");
    expect((await setup.app.reload()).ok).toBe(true);
    const aborted = await waitFor("aborted", () => setup.app.rollouts.rollouts("guard").history.find((h) => h.outcome === "aborted"), 20_000);
    expect(aborted.reason).toMatch(/canary analysis failed: candidate \d+\/\d+ failed \(\d+\.\d+%\) vs stable 0\/\d+ failed/);
    expect(aborted.reason).toMatch(/maxFailureRatioIncrease fail \(increase .* z=.*, p=.* < 0\.01\)/);
    const event = setup.app.events.list({ types: ["rollout-aborted"] })[0]!;
    const analysis = (event.details as { analysis: { outcome: string; candidate: { failed: number; total: number }; stable: { total: number } } }).analysis;
    expect(analysis.outcome).toBe("fail");
    expect(analysis.candidate.total).toBeGreaterThanOrEqual(100);
    expect(analysis.candidate.failed / analysis.candidate.total).toBeGreaterThan(0.05);
    expect(analysis.stable.total).toBeGreaterThanOrEqual(100);
    expect(setup.app.versions.quarantined("guard").map((q) => q.sha256)).toContain(bad);
    await waitFor("everyone back on v1", () => setup.fleet.nodes.every((n) => runningGuard(n) === setup.v1));
    // No node ever trapped: the failures were answers, not crashes.
    expect(setup.fleet.nodes.map((n) => n.stats.get(`wasm.guard@${bad.slice(0, 8)}.vm_reload_success`) ?? 0)).toEqual(setup.fleet.nodes.map(() => 0));
  }, 40_000);

  it("passes a version failing 0.1% against a stable failing 0.1%", async () => {
    const steps = `        - { nodes: 1, bake: 1s }
        - { percent: 100 }`;
    const config = '{"failPermille":1}';
    const setup = await setUp(steps, { module: "fail_ratio", configuration: config }, 100);
    s = setup;
    const candidate = await writeVersion(setup.dir, "v2", rolloutYaml({ steps, gates: GATES, configuration: config }), "fail_ratio");
    expect((await setup.app.reload()).ok).toBe(true);
    await waitFor("completed", () => setup.app.rollouts.rollouts("guard").history.find((h) => h.outcome === "completed"), 30_000);
    const step = setup.app.events.list({ types: ["rollout-step"] })[0]!;
    const analysis = (step.details as { analysis: { outcome: string; candidate: { total: number }; stable: { total: number } } }).analysis;
    expect(analysis.outcome).toBe("pass");
    expect(analysis.candidate.total).toBeGreaterThanOrEqual(100);
    expect(analysis.stable.total).toBeGreaterThanOrEqual(100);
    await waitFor("everyone on v2", () => setup.fleet.nodes.every((n) => runningGuard(n) === candidate));
  }, 40_000);

  it("holds a step with too few requests after its bake, reported undecided", async () => {
    const steps = `        - { nodes: 1, bake: 500ms }
        - { percent: 100 }`;
    const clock = testClock();
    const setup = await setUp(steps, { module: "good_http", configuration: "{}" }, 4, clock);
    s = setup;
    const v2 = await writeVersion(setup.dir, "v2", rolloutYaml({ steps, gates: GATES }));
    expect((await setup.app.reload()).ok).toBe(true);
    // The fake clock stands still until the canary's stats after the push (VM creations, first requests) are in:
    // a VM creation read more than 10 s of fake time after the push would count as a crash.
    const canary = await advanceUntil(clock, "canary on v2", () => setup.fleet.nodes.find((n) => runningGuard(n) === v2), { stepMs: 100 });
    const key = setup.app.pipeline.nodeVersions(canary.id).get("guard") ?? "";
    await waitFor("canary requests counted", () => setup.app.traffic.counts("guard", key, 0).total > 0, 15_000);
    const waiting = await advanceUntil(clock, "waiting", () => setup.app.events.list({ types: ["rollout-waiting"] })[0]);
    expect(waiting.message).toMatch(/waits at step 1 after its bake: candidate \d+\/\d+ failed/);
    expect(waiting.message).toMatch(/of 100 requests each/);
    // A minute past the bake (fake time): still at step 1, and the status says why.
    const until = clock.now() + 60_000;
    await advanceUntil(clock, "a minute", () => clock.now() >= until);
    const st = status(setup.app);
    expect(st?.step?.index).toBe(1);
    expect(st?.step?.bakeLeftMs).toBe(0);
    expect(st?.analysis?.outcome).toBe("wait");
    expect(st?.analysis?.candidate.total).toBeLessThan(100);
    expect(setup.app.events.list({ types: ["rollout-waiting"] })).toHaveLength(1);
  }, 40_000);
});
