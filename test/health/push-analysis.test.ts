/**
 * Canary analysis after a plain push (no rollout plan), against simulated
 * Envoys with traffic under the default FAIL_CLOSED: a version that answers
 * 500 to 10% of requests and never traps is rolled back to the version it
 * replaced, with the counts and the test in the rollback event.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import type { SimFleet } from "../../src/sim";
import { startTestApp } from "../helpers/app";
import { guardConfig, tempConfigFolder, writeGuard } from "../helpers/config-folder";
import { cleanup, runningGuard, startFleet } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { fixture, variant } from "../helpers/wasm-bytes";

const yaml = (configuration: string) =>
  guardConfig(["code: inline", "preflight: false", `configuration: ${configuration}`, "health: { goodAfter: 300ms, window: 30s, minRequests: 100, maxFailureRatioIncrease: 0.01 }"]);

describe("canary analysis after a plain push", () => {
  let dir: string | undefined;
  let app: RunningWasmxds | undefined;
  let fleet: SimFleet | undefined;
  afterEach(() => cleanup(fleet, app, dir));

  it("rolls back a version answering 500 to 10% of requests, under FAIL_CLOSED, with no trap", async () => {
    dir = await tempConfigFolder({}, "wasmxds-push-analysis-");
    const v1 = await writeGuard(dir, yaml("{}"), variant(fixture("good_http"), "v1"));
    app = await startTestApp(dir);
    const a = app;
    const f = await startFleet(a.xdsAddress.port, 6, { traffic: { rps: 100 }, metricsService: { flushIntervalMs: 250 } });
    fleet = f;
    await waitFor("everyone on v1", () => f.nodes.every((n) => runningGuard(n) === v1));
    const key = a.pipeline.nodeVersions("n0").get("guard") ?? "";
    await waitFor("v1 requests counted", () => a.traffic.counts("guard", key, 0).total >= 100, 15_000);

    const bad = await writeGuard(dir, yaml('{"failPermille":100}'), fixture("fail_ratio"));
    expect((await a.reload()).ok).toBe(true);
    const rollback = await waitFor("rollback", () => a.events.list({ types: ["rollback"] })[0], 20_000);
    expect(rollback.message).toMatch(new RegExp(`guard@${bad.slice(0, 8)} rolled back to guard@${v1.slice(0, 8)}: canary analysis against guard@${v1.slice(0, 8)} failed`));
    expect(rollback.message).toMatch(/maxFailureRatioIncrease fail \(increase .*, z=.*, p=.* < 0\.01\)/);
    const analysis = (rollback.details as { analysis: { outcome: string; candidate: { failed: number; total: number } } }).analysis;
    expect(analysis.outcome).toBe("fail");
    expect(analysis.candidate.total).toBeGreaterThanOrEqual(100);
    expect(a.versions.quarantined("guard").map((q) => q.sha256)).toContain(bad);
    await waitFor("everyone back on v1", () => f.nodes.every((n) => runningGuard(n) === v1));
  }, 40_000);
});
