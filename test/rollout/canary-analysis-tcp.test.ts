/**
 * Canary analysis of a network filter in rollout steps, against simulated
 * Envoys whose traffic is TCP connections: tcp.<stat_prefix>.downstream_cx_total
 * reaches the metrics service, and the connections a wasm filter closed
 * before reaching upstream reach the access log service on the listener's
 * TCP log. A version that closes 10% of connections (close_ratio,
 * closePermille 100) and never traps is aborted at the first step by
 * maxFailureRatioIncrease, with the evidence; one that closes none against a
 * stable that closes none passes every step.
 *
 * Envoy 1.33 logs a filter's own close (proxy_close_stream) exactly like a
 * failed filter's (no termination details: docs/ENVOY.md "Access logs for
 * failure reports"), so those closes are also wasm_fail_connection crash
 * signals; the crash limits here are high so that the analysis decides.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { HealthSignal } from "../../src/health/signal";
import type { RunningWasmxds } from "../../src/main";
import type { SimFleet } from "../../src/sim";
import { makeFolder, writeVersion } from "../helpers/config-folder";
import { cleanup, runningGuard, startFleet } from "../helpers/fleet";
import { startTestApp } from "../helpers/app";
import { waitFor } from "../helpers/wait";

const GATES = "{ maxNacks: 0, maxCrashes: 100000, maxDisconnects: 2, minAcked: 1, minRequests: 100, maxFailureRatioIncrease: 0.01 }";

/** The network filter `guard` (FAIL_CLOSED, Envoy's default) on the TCP listener `raw`, rolled out over `steps`. */
function tcpRolloutYaml(steps: string, configuration: string): string {
  return `
filters:
  - name: guard
    kind: network
    module: modules/guard.wasm
    rootId: ""
    code: inline
    preflight: false
    configuration: ${configuration}
    selector: { cluster: edge }
    health: { maxNacks: 100, maxCrashes: 100000 }
    rollout:
      steps:
${steps}
      gates: ${GATES}
      onNewVersion: supersede
listeners:
  - { name: raw, address: 127.0.0.1:10001, tcp: { filters: [guard], cluster: backend } }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`;
}

interface Setup {
  dir: string;
  app: RunningWasmxds;
  fleet: SimFleet;
  v1: string;
  signals: HealthSignal[];
}

async function setUp(steps: string, stable: { module: string; configuration: string }): Promise<Setup> {
  const yaml = tcpRolloutYaml(steps, stable.configuration);
  const { dir } = await makeFolder(yaml);
  const v1 = await writeVersion(dir, "v1", yaml, stable.module);
  const app = await startTestApp(dir);
  const signals: HealthSignal[] = [];
  app.signals.on((sig) => signals.push(sig));
  // 100 connections a second per node, all through the TCP listener.
  const fleet = await startFleet(app.xdsAddress.port, 6, { traffic: { rps: 100 }, metricsService: { flushIntervalMs: 250 } });
  await waitFor("everyone on v1", () => fleet.nodes.every((n) => runningGuard(n) === v1));
  const key = app.pipeline.nodeVersions("n0").get("guard") ?? "";
  await waitFor("stable connections counted", () => app.traffic.counts("guard", key, 0).nodes === fleet.nodes.length, 15_000);
  return { dir, app, fleet, v1, signals };
}

describe("canary analysis of a network filter in rollouts", () => {
  let s: Setup | undefined;
  afterEach(async () => {
    if (s) await cleanup(s.fleet, s.app, s.dir);
    s = undefined;
  });

  it("aborts at the first step a version that closes 10% of connections and never traps", async () => {
    const steps = `        - { nodes: 1, bake: 60s }
        - { percent: 100 }`;
    const setup = await setUp(steps, { module: "good_network", configuration: "{}" });
    s = setup;
    const bad = await writeVersion(setup.dir, "bad", tcpRolloutYaml(steps, '{"closePermille":100}'), "close_ratio");
    expect((await setup.app.reload()).ok).toBe(true);
    const aborted = await waitFor("aborted", () => setup.app.rollouts.rollouts("guard").history.find((h) => h.outcome === "aborted"), 20_000);
    expect(aborted.reason).toMatch(/canary analysis failed: candidate \d+\/\d+ failed \(\d+\.\d+%\) vs stable 0\/\d+ failed/);
    expect(aborted.reason).toMatch(/maxFailureRatioIncrease fail \(increase .* z=.*, p=.* < 0\.01\)/);
    const event = setup.app.events.list({ types: ["rollout-aborted"] })[0]!;
    const analysis = (event.details as { analysis: { outcome: string; candidate: { failed: number; total: number; listeners: string[] }; stable: { total: number } } })
      .analysis;
    expect(analysis.outcome).toBe("fail");
    expect(analysis.candidate.listeners).toEqual(["raw"]);
    expect(analysis.candidate.total).toBeGreaterThanOrEqual(100);
    expect(analysis.candidate.failed / analysis.candidate.total).toBeGreaterThan(0.05);
    expect(analysis.stable.total).toBeGreaterThanOrEqual(100);
    expect(setup.app.versions.quarantined("guard").map((q) => q.sha256)).toContain(bad);
    await waitFor("everyone back on v1", () => setup.fleet.nodes.every((n) => runningGuard(n) === setup.v1));
    // The module never trapped; its closes still read as failed connections (see the top of the file).
    expect(setup.signals.some((sig) => sig.kind === "wasm_fail_connection")).toBe(true);
    expect(setup.fleet.nodes.map((n) => n.stats.get(`wasm.guard@${bad.slice(0, 8)}.vm_reload_success`) ?? 0)).toEqual(setup.fleet.nodes.map(() => 0));
  }, 40_000);

  it("passes a version closing no connection against a stable closing none", async () => {
    const steps = `        - { nodes: 1, bake: 1s }
        - { percent: 100 }`;
    const config = '{"closePermille":0}';
    const setup = await setUp(steps, { module: "close_ratio", configuration: config });
    s = setup;
    const candidate = await writeVersion(setup.dir, "v2", tcpRolloutYaml(steps, config), "close_ratio");
    expect((await setup.app.reload()).ok).toBe(true);
    await waitFor("completed", () => setup.app.rollouts.rollouts("guard").history.find((h) => h.outcome === "completed"), 30_000);
    const step = setup.app.events.list({ types: ["rollout-step"] })[0]!;
    const analysis = (step.details as { analysis: { outcome: string; candidate: { failed: number; total: number }; stable: { total: number } } }).analysis;
    expect(analysis.outcome).toBe("pass");
    expect(analysis.candidate.failed).toBe(0);
    expect(analysis.candidate.total).toBeGreaterThanOrEqual(100);
    expect(analysis.stable.total).toBeGreaterThanOrEqual(100);
    await waitFor("everyone on v2", () => setup.fleet.nodes.every((n) => runningGuard(n) === candidate));
  }, 40_000);
});
