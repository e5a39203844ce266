/**
 * A version Envoy rejects (inline code whose on_configure returns false,
 * which the pre-flight check would have caught, so it is off for this
 * filter) is NACKed by the simulated fleet, rolled back to the last
 * known-good version on every node, quarantined, and stays out after a
 * control-plane restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { SimFleet } from "../../src/sim";
import { runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { startTestApp } from "../helpers/app";
import { guardFolder, removeFolder, setGuard } from "../helpers/config-folder";
import { XDS_APIS } from "../helpers/xds-apis";

describe.each(XDS_APIS)("rollback on NACK (%s xDS)", (xdsApi) => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;
  let good: string;
  let bad: string;

  beforeAll(async () => {
    dir = await guardFolder({ module: "good_http", extra: "    preflight: false" });
    app = await startTestApp(dir);
    good = app.publisher.published!.modules.get("guard")!;
    fleet = new SimFleet({ nodes: 3, idPrefix: "n", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, xdsApi });
    await fleet.start();
    await waitFor("fleet LIVE", () => fleet.summary().live === 3, 10_000);
  });

  afterAll(async () => {
    await fleet?.stop();
    await app?.close();
    await removeFolder(dir);
  });

  const running = () => fleet.nodes.map(runningGuard);

  it("serves the good version everywhere, as the baseline known-good", () => {
    expect(running()).toEqual([good, good, good]);
    expect(app.versions.lastGood("guard")?.sha256).toBe(good);
  });

  it("rolls a NACKed version back on every node in one push and quarantines it", async () => {
    bad = await setGuard(dir, { module: "configure_false", configuration: '{"ok":false}', extra: "    preflight: false" });
    expect((await app.reload()).ok).toBe(true);
    await waitFor("rollback", () => app.events.list({ types: ["rollback"] })[0], 10_000);
    const rollback = app.events.list({ types: ["rollback"] })[0]!;
    expect(rollback.message).toMatch(new RegExp(`^guard@${bad.slice(0, 8)} rolled back to guard@${good.slice(0, 8)}: \\d NACK\\(s\\) from n\\d`));
    expect(rollback.message).toMatch(/Unable to create Wasm plugin guard@/);
    expect(app.versions.quarantined("guard").map((q) => q.sha256)).toEqual([bad]);
    await waitFor("republished with the good version", () => app.publisher.published!.modules.get("guard") === good);
    // The good module comes back with the settings it was good with.
    expect(app.publisher.published!.served.get("guard")!.filter.configuration).toBe("{}");
    await waitFor("nodes on the good version", () => running().every((s) => s === good));
    // Re-saving the same bytes does not push it again.
    const pushes = app.events.list({ types: ["published"] }).length;
    expect((await app.reload()).ok).toBe(true);
    expect(app.events.list({ types: ["published"] })).toHaveLength(pushes);
    expect(app.publisher.published!.modules.get("guard")).toBe(good);
  });

  it("shows the quarantine on the admin API and lets an operator clear it", async () => {
    const base = `http://127.0.0.1:${app.adminAddress!.port}`;
    const view = (await (await fetch(`${base}/v1/filters/guard`)).json()) as {
      current: { sha256: string };
      desired: { sha256: string };
      lastGood: { sha256: string };
      quarantined: Array<{ sha256: string; nodes: string[]; reason: string }>;
    };
    expect(view.current.sha256).toBe(good);
    expect(view.desired.sha256).toBe(bad);
    expect(view.lastGood.sha256).toBe(good);
    expect(view.quarantined[0]).toMatchObject({ sha256: bad });
    expect(view.quarantined[0]!.nodes.length).toBeGreaterThan(0);
    const missing = await fetch(`${base}/v1/filters/nope/quarantine/clear`, { method: "POST", headers: { "content-type": "application/json" } });
    expect(missing.status).toBe(404);
  });

  it("comes back after a restart serving the good version, never the quarantined one", async () => {
    const port = app.xdsAddress.port;
    await app.close();
    // Same port: the fleet reconnects as Envoys would to a restarted control plane.
    app = await startTestApp(dir, { xdsAddress: { host: "127.0.0.1", port } });
    expect(app.versions.quarantined("guard").map((q) => q.sha256)).toEqual([bad]);
    expect(app.publisher.published!.modules.get("guard")).toBe(good);
    await waitFor("fleet reconnected", () => app.xds.streamStatuses().length === 3, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(running()).toEqual([good, good, good]);
    expect(app.xds.nacks()).toEqual([]);
  });

  it("pushes the version again once the quarantine is cleared", async () => {
    const res = await fetch(`http://127.0.0.1:${app.adminAddress!.port}/v1/filters/guard/quarantine/clear`, { method: "POST", headers: { "content-type": "application/json" } });
    const body = (await res.json()) as { cleared: string[] };
    expect(body.cleared.map((k) => k.split(":")[0])).toEqual([bad]);
    expect(app.publisher.published!.modules.get("guard")).toBe(bad);
    expect(app.events.list({ types: ["quarantine-cleared"] })[0]!.cause).toBe("operator");
  });
});
