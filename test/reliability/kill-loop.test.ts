/**
 * kill -9 at random moments during rollouts and rollbacks, then restart,
 * again and again: a control plane must come back every time. A seeded
 * loop runs `wasmxds serve --watch` as a real process in front of a
 * simulated fleet (4 nodes, traffic, stats over the metrics service), writes
 * a new filter version (good or crashing, with or without a rollout plan),
 * kills the process with SIGKILL somewhere in the rollout, rollback or state
 * write that follows, and checks after every restart that:
 * - the server starts (no state on disk can stop it) and answers the admin API;
 * - state.json is whole and valid, and interrupted writes were cleaned up;
 * - the version it serves is not a quarantined one while a known-good one exists;
 * - the fleet reconnects;
 * and at the end that a crashing version is still rolled back.
 * Reproduce a failure with KILL_SEED=<seed>; lengthen with KILL_ROUNDS.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { SimFleet } from "../../src/sim";
import { StateStore } from "../../src/health/state-store";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { type CliProcess, startCli } from "../helpers/cli-process";
import { guardConfig } from "../helpers/config-folder";
import { freePort } from "../helpers/ports";
import { fixture, variant } from "../helpers/wasm-bytes";
import { waitFor } from "../helpers/wait";

const SEED = Number(process.env.KILL_SEED ?? 1128);
const ROUNDS = Number(process.env.KILL_ROUNDS ?? 6);

function yaml(o: { crashAfter: number; rollout: boolean }): string {
  const fields = ["code: inline", "failurePolicy: FAIL_RELOAD", "reloadBackoff: { base: 10ms }", "preflight: false", `configuration: { crashAfter: ${o.crashAfter} }`, "health: { goodAfter: 500ms, window: 30s }"];
  const rollout = `rollout:
      steps:
        - { nodes: 1, bake: 400ms }
        - { percent: 50, bake: 400ms }
        - { percent: 100 }
      gates: { maxNacks: 0, maxCrashes: 0, maxDisconnects: 100, minAcked: 1 }`;
  return guardConfig(o.rollout ? [...fields, rollout] : fields);
}


interface FilterView {
  current?: { sha256: string };
  lastGood?: { sha256: string };
  quarantined: Array<{ sha256: string }>;
}

async function guardView(adminPort: number): Promise<FilterView> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/v1/filters/guard`);
  expect(res.status).toBe(200);
  return (await res.json()) as FilterView;
}

const step = fc.record({
  crash: fc.boolean(),
  rollout: fc.boolean(),
  killAfterMs: fc.integer({ min: 50, max: 2500 }),
});

describe("reliability: kill -9 during rollouts and rollbacks", () => {
  let dir: string | undefined;
  let cli: CliProcess | undefined;
  let fleet: SimFleet | undefined;

  afterAll(async () => {
    await fleet?.stop();
    if (cli && cli.child.exitCode === null) cli.child.kill("SIGKILL");
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("restarts into a valid state every time", async () => {
    dir = await mkdtemp(join(tmpdir(), "wasmxds-kill-"));
    const stateDir = join(dir, "state");
    await mkdir(join(dir, "config/modules"), { recursive: true });
    const config = join(dir, "config");
    const writeVersion = async (tag: string, o: { crashAfter: number; rollout: boolean }) => {
      const bytes = variant(fixture("trap_nth_request"), tag);
      await writeFile(join(config, "modules/guard.wasm"), bytes);
      await writeFile(join(config, "wasmxds.yaml"), yaml(o));
      return sha256Hex(bytes);
    };
    await writeVersion("v0", { crashAfter: 1_000_000, rollout: false });
    const [xdsPort, adminPort] = [await freePort(), await freePort()];
    const start = async () => {
      const c = startCli([
        "serve",
        "--config",
        config,
        "--watch",
        "--state-dir",
        stateDir,
        "--xds-address",
        `127.0.0.1:${xdsPort}`,
        "--modules-address",
        "127.0.0.1:0",
        "--admin-address",
        `127.0.0.1:${adminPort}`,
      ]);
      await c.waitFor((l) => l.msg === "wasmxds ready", 30_000);
      return c;
    };
    cli = await start();
    fleet = new SimFleet({ nodes: 4, idPrefix: "k", cluster: "edge", xdsAddress: `127.0.0.1:${xdsPort}`, traffic: { rps: 30 }, metricsService: { flushIntervalMs: 200 } });
    await fleet.start();
    await waitFor("fleet live", () => fleet!.summary().live === 4, 15_000);

    const plan = fc.sample(fc.array(step, { minLength: ROUNDS, maxLength: ROUNDS }), { seed: SEED, numRuns: 1 })[0]!;
    for (const [i, s] of plan.entries()) {
      const what = `round ${i} (KILL_SEED=${SEED}: ${s.crash ? "crashing" : "good"} version${s.rollout ? " with a rollout" : ""}, kill after ${s.killAfterMs} ms)`;
      await writeVersion(`v${i + 1}`, { crashAfter: s.crash ? 5 : 1_000_000, rollout: s.rollout });
      await new Promise((r) => setTimeout(r, s.killAfterMs));
      const deadPid = cli.child.pid;
      cli.child.kill("SIGKILL");
      await cli.exited;

      // What a kill -9 leaves on disk must never stop the next start.
      const stateText = await readFile(join(stateDir, "state.json"), "utf8").catch(() => undefined);
      if (stateText !== undefined) expect(() => JSON.parse(stateText), `${what}: state.json torn`).not.toThrow();
      cli = await start().catch((err: unknown) => {
        throw new Error(`${what}: the server did not start again: ${String(err)}`);
      });
      // Temporary files are named .<file>.<pid>.<random>.tmp; the new process may be writing one of its own right now.
      const leftovers = (await readdir(stateDir)).filter((f) => f.endsWith(".tmp") && f.includes(`.${deadPid}.`));
      expect(leftovers, `${what}: interrupted writes left behind`).toEqual([]);
      await expect(StateStore.open(stateDir), `${what}: state.json invalid`).resolves.toBeDefined();

      const view = await guardView(adminPort);
      const quarantined = new Set(view.quarantined.map((q) => q.sha256));
      if (view.lastGood) {
        expect(quarantined.has(view.current!.sha256), `${what}: serves a quarantined version while ${view.lastGood.sha256.slice(0, 8)} is known-good`).toBe(false);
        expect(quarantined.has(view.lastGood.sha256), `${what}: a quarantined version is known-good`).toBe(false);
      }
      // The fleet comes back and every node runs what the base group is served
      // or, mid-rollout, the candidate: either way a version the server knows.
      await waitFor(`${what}: fleet reconnected`, () => fleet!.summary().live === 4, 20_000);
    }
    // After all that, the machinery still works: a crashing version is rolled back.
    const bad = await writeVersion("final-crash", { crashAfter: 5, rollout: false });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const v = await guardView(adminPort);
      if (v.quarantined.some((q) => q.sha256 === bad) && v.current?.sha256 !== bad) break;
      if (Date.now() > deadline) throw new Error(`the final crashing version ${bad.slice(0, 8)} was not rolled back: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 300_000);
});
