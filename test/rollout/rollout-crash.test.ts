/**
 * A version that passes the pre-flight check but crashes under traffic is
 * caught by the crash gate at the first step (one node), from the stats the
 * canary pushes, and never reaches the rest of the fleet.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import type { SimFleet } from "../../src/sim";
import { waitFor } from "../helpers/wait";
import { startTestApp } from "../helpers/app";
import { makeFolder, rolloutYaml, writeVersion } from "../helpers/config-folder";
import { cleanup, runningGuard, startFleet } from "../helpers/fleet";
import { XDS_APIS } from "../helpers/xds-apis";

const STEPS = `        - { nodes: 1, bake: 20s }
        - { percent: 100 }`;

describe.each(XDS_APIS)("rollout crash gate (%s xDS)", (xdsApi) => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;
  let v1: string;

  beforeAll(async () => {
    ({ dir, v1 } = await makeFolder(rolloutYaml({ steps: STEPS })));
    app = await startTestApp(dir);
    fleet = await startFleet(app.xdsAddress.port, 8, { traffic: { rps: 40 }, metricsService: { flushIntervalMs: 250 }, xdsApi });
  });
  afterAll(() => cleanup(fleet, app, dir));

  it("aborts at the first step when the canary's crash signals exceed maxCrashes", async () => {
    const bad = await writeVersion(dir, "", rolloutYaml({ steps: STEPS, configuration: '{"crashAfter":20}' }), "trap_nth_request");
    expect((await app.reload()).ok).toBe(true);
    await waitFor("aborted", () => app.rollouts.rollouts("guard").history.find((h) => h.outcome === "aborted"), 15_000);
    const event = app.events.list({ types: ["rollout-aborted"] })[0]!;
    expect(event.message).toMatch(/crash signal/);
    expect(app.versions.quarantined("guard").map((q) => q.sha256)).toContain(bad);
    // Only the one canary ever ran it.
    const ran = fleet.nodes.filter((n) => n.stats.get(`wasm.guard@${bad.slice(0, 8)}.vm_reload_success`) !== undefined || n.nacks().length > 0);
    expect(ran.length).toBeLessThanOrEqual(1);
    await waitFor("everyone on v1", () => fleet.nodes.every((n) => runningGuard(n) === v1));
  });
});
