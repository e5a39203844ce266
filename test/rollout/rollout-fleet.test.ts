/**
 * Fleet rollouts against 20 simulated Envoys (clusters edge/core, ring
 * metadata): a healthy version walks every step and finishes; a version the
 * canary rejects is caught at the first step without reaching the rest;
 * a filter's selector keeps it off other clusters. The control plane runs
 * on a FakeClock the test advances; the fleet answers in real time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import type { SimFleet } from "../../src/sim";
import type { FakeClock } from "../../src/time/fake-clock";
import { runCli } from "../helpers/cli-process";
import { advanceUntil, testClock } from "../helpers/clock";
import { waitFor } from "../helpers/wait";
import { startTestApp } from "../helpers/app";
import { FAST_STEPS, makeFolder, rolloutYaml, writeVersion } from "../helpers/config-folder";
import { cleanup, runningGuard, startFleet } from "../helpers/fleet";
import { XDS_APIS } from "../helpers/xds-apis";

describe.each(XDS_APIS)("fleet rollout (%s xDS)", (xdsApi) => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;
  let v1: string;
  let v2: string;
  let clock: FakeClock;
  const edge = () => fleet.nodes.filter((n) => n.identity.cluster === "edge");
  const core = () => fleet.nodes.filter((n) => n.identity.cluster === "core");

  beforeAll(async () => {
    ({ dir, v1 } = await makeFolder(rolloutYaml({ steps: FAST_STEPS })));
    clock = testClock();
    app = await startTestApp(dir, { clock });
    fleet = await startFleet(app.xdsAddress.port, 20, { xdsApi });
  });
  afterAll(() => cleanup(fleet, app, dir));

  it("runs the filter only where its selector matches", () => {
    expect(edge().map(runningGuard)).toEqual(Array(16).fill(v1));
    expect(core().map(runningGuard)).toEqual(Array(4).fill(undefined));
  });

  it("walks a healthy version through every step to the whole selected fleet", async () => {
    v2 = await writeVersion(dir, "v2", rolloutYaml({ steps: FAST_STEPS }));
    expect((await app.reload()).ok).toBe(true);
    // Step 1: exactly one node.
    await advanceUntil(clock, "one canary", () => edge().filter((n) => runningGuard(n) === v2).length === 1, { stepMs: 50 });
    expect(edge().filter((n) => runningGuard(n) === v1)).toHaveLength(15);
    await advanceUntil(clock, "completed", () => app.rollouts.rollouts("guard").history.some((h) => h.outcome === "completed"), { stepMs: 50 });
    await waitFor("every edge node on v2", () => edge().every((n) => runningGuard(n) === v2));
    expect(core().map(runningGuard)).toEqual(Array(4).fill(undefined));
    const steps = app.events.list({ types: ["rollout-step"] }).map((e) => e.details?.step);
    expect(steps).toEqual([2, 3, 4]);
    expect(app.rollouts.rollouts("guard").stable?.sha256).toBe(v2);
    expect(app.versions.lastGood("guard")?.sha256).toBe(v2);
  });

  it("catches a version the canary NACKs at the first step; the rest of the fleet never gets it", async () => {
    const bad = await writeVersion(dir, "", rolloutYaml({ steps: FAST_STEPS, configuration: '{"ok":false}' }), "configure_false");
    const nacksBefore = fleet.nodes.map((n) => n.nacks().length);
    expect((await app.reload()).ok).toBe(true);
    await advanceUntil(clock, "aborted", () => app.rollouts.rollouts("guard").history.some((h) => h.outcome === "aborted"), { stepMs: 50 });
    const aborted = app.rollouts.rollouts("guard").history.at(-1)!;
    expect(aborted.sha256).toBe(bad);
    expect(app.versions.quarantined("guard").map((q) => q.sha256)).toContain(bad);
    const nackers = fleet.nodes.filter((n, i) => n.nacks().length > nacksBefore[i]!);
    expect(nackers).toHaveLength(1);
    await waitFor("back on v2", () => edge().every((n) => runningGuard(n) === v2));
    const abortEvent = app.events.list({ types: ["rollout-aborted"] })[0]!;
    expect(abortEvent.message).toMatch(/NACK|quarantined/);
  });

  it("shows rollouts on the admin API and refuses controls without a rollout", async () => {
    const base = `http://127.0.0.1:${app.adminAddress!.port}`;
    const all = (await (await fetch(`${base}/v1/rollouts`)).json()) as { rollouts: Array<{ filter: string; state: string; nodes: { eligible: number } }> };
    expect(all.rollouts[0]).toMatchObject({ filter: "guard", state: "idle", nodes: { eligible: 16 } });
    const out = await runCli(["rollout", "status", "--admin-address", `127.0.0.1:${app.adminAddress!.port}`]);
    expect(out).toMatch(/^guard idle$/m);
    expect(out).toMatch(/^ {2}stable {5}guard@[0-9a-f]{8} \(settings [0-9a-f]{8}\)$/m);
    expect(out).toMatch(/^ {2}nodes {6}\[-+\] 0\/16 on the candidate, 16 on stable$/m);
    expect(out).toMatch(/aborted: /);
    const res = await fetch(`${base}/v1/rollouts/guard/promote`, { method: "POST", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toMatch(/no rollout in progress/);
  });
});
