/**
 * A version that passes the pre-flight check (smoke request included) but
 * crashes in production on its 50th request: the simulated fleet serves
 * traffic through it under FAIL_RELOAD, Envoy's stats reach wasmxds (pushed
 * over the metrics service as cumulative counters or as deltas, or pulled
 * from each node's admin endpoint), and the version is rolled back within
 * seconds, module and settings, on every node.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { SimFleet, type SimFleetOptions } from "../../src/sim";
import { freePort } from "../helpers/ports";
import { cleanup, runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { startTestApp } from "../helpers/app";
import { guardFolder, setGuard } from "../helpers/config-folder";
import { XDS_APIS } from "../helpers/xds-apis";

describe.each(XDS_APIS)("rollback of a version that crashes in production (%s xDS)", (xdsApi) => {
  let dir: string | undefined;
  let app: RunningWasmxds | undefined;
  let fleet: SimFleet | undefined;

  afterEach(async () => {
    await cleanup(fleet, app, dir);
    fleet = app = dir = undefined;
  });

  async function scenario(fleetOptions: (port: number) => Promise<Partial<SimFleetOptions>>) {
    dir = await guardFolder({ module: "good_http", extra: "    smokeTest: true", goodAfter: "30s" });
    app = await startTestApp(dir, { statsPullIntervalMs: 200 });
    const good = app.publisher.published!.modules.get("guard")!;
    fleet = new SimFleet({ nodes: 3, idPrefix: "c", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, traffic: { rps: 40 }, xdsApi, ...(await fleetOptions(app.xdsAddress.port)) });
    await fleet.start();
    await waitFor("fleet LIVE", () => fleet!.summary().live === 3, 10_000);
    const bad = await setGuard(dir, { module: "trap_nth_request", configuration: '{"crashAfter":50}', extra: "    smokeTest: true", goodAfter: "30s" });
    const published = Date.now();
    const r = await app.reload();
    expect(r.ok).toBe(true);
    // It passed the pre-flight check, smoke request included.
    expect(app.checks.history("guard")[0]).toMatchObject({ sha256: bad, ok: true, smoke: true });
    await waitFor("rollback", () => app!.events.list({ types: ["rollback"] })[0], 20_000);
    const rolledBackIn = Date.now() - published;
    const event = app.events.list({ types: ["rollback"] })[0]!;
    expect(event.message).toMatch(new RegExp(`^guard@${bad.slice(0, 8)} rolled back to guard@${good.slice(0, 8)}: \\d+ crash signal\\(s\\) \\(vm_reload`));
    expect(app.versions.quarantined("guard")[0]).toMatchObject({ sha256: bad });
    expect(app.versions.quarantined("guard")[0]!.signals.length).toBeGreaterThan(0);
    await waitFor("every node back on the good version", () =>
      fleet!.nodes.every((n) => runningGuard(n) === good),
    );
    return { rolledBackIn, event };
  }

  it("from cumulative counters pushed over the metrics service", async () => {
    const { rolledBackIn, event } = await scenario(async () => ({ metricsService: { flushIntervalMs: 250 } }));
    expect(rolledBackIn).toBeLessThan(15_000);
    expect(event.message).toMatch(/vm_reload_success/);
  });

  it("from counters reported as deltas", async () => {
    const { rolledBackIn } = await scenario(async () => ({ metricsService: { flushIntervalMs: 250, reportCountersAsDeltas: true } }));
    expect(rolledBackIn).toBeLessThan(15_000);
  });

  it("from stats pulled from each node's admin endpoint", async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const { rolledBackIn } = await scenario(async () => ({
      perNode: (i: number) => ({ adminPort: ports[i], metadata: { "wasmxds.admin": `127.0.0.1:${ports[i]}` } }),
    }));
    expect(rolledBackIn).toBeLessThan(15_000);
    expect(app!.signals).toBeDefined();
  });
});
