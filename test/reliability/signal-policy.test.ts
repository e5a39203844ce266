/**
 * Issue 11, item 3: one message from anyone froze every edit. A NACK from a
 * client claiming any node id quarantined the baseline, and every later
 * edit was refused; the metrics service did the same for a node that never
 * connected. Now: signals count only from nodes connected over xDS that
 * were sent the version; one node cannot condemn a version the others run
 * healthily (health.nodeShare); a quarantine never blocks other edits, a
 * new version of the filter, or a start. Real peers throughout: a raw ADS
 * client, a raw metrics-service stream, a simulated fleet. The control
 * plane runs on a FakeClock: its verdicts here come from signals, not ticks.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { memoryLogger } from "../../src/logger";
import type { RunningWasmxds } from "../../src/main";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { METRICS_SERVICE_PATH, SimFleet } from "../../src/sim";
import { AdsClient } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";
import { testClock } from "../helpers/clock";
import { guardFolder, guardYaml, setGuard } from "../helpers/config-folder";
import { openRawStream } from "../helpers/ingest-harness";
import { cleanup } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";

const counter = (name: string, value: number) => ({ name, type: "COUNTER", metric: [{ counter: { value }, timestamp_ms: 1 }] });

describe("who can condemn a version", () => {
  let dir: string | undefined;
  let app: RunningWasmxds | undefined;
  let fleet: SimFleet | undefined;
  const clients: AdsClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await cleanup(fleet, app, dir);
    fleet = app = dir = undefined;
  });

  async function start(nodes: number, logger = memoryLogger()) {
    dir = await guardFolder({ module: "good_http" });
    // A FakeClock nobody advances: no evaluation tick runs behind the test's back; it calls evaluate() itself.
    app = await startTestApp(dir, { logger, clock: testClock() });
    const sha = app.publisher.published!.modules.get("guard")!;
    if (nodes > 0) {
      fleet = new SimFleet({ nodes, idPrefix: "n", xdsAddress: `127.0.0.1:${app.xdsAddress.port}` });
      await fleet.start();
      await waitFor("fleet LIVE", () => fleet!.summary().live === nodes, 10_000);
    }
    return { app, sha, logger };
  }

  function client(id: string): AdsClient {
    const c = new AdsClient(app!.xdsAddress.port, { id, cluster: "edge" });
    clients.push(c);
    return c;
  }

  /** A client that subscribes the guard ECDS resource (so it is sent the version) and NACKs it. */
  async function nackGuard(id: string, sha: string): Promise<void> {
    const c = client(id);
    c.request({ typeUrl: TYPE_URLS.extensionConfig, names: ["guard"] });
    const r = await c.next(TYPE_URLS.extensionConfig);
    c.nack(r, "", `Unable to create Wasm plugin guard@${sha.slice(0, 8)}`, ["guard"]);
  }

  it("ignores (and counts) a NACK naming a version the client was never sent", async () => {
    const { app, sha } = await start(1);
    const c = client("intruder");
    c.request({ typeUrl: TYPE_URLS.cluster });
    const clusters = await c.next(TYPE_URLS.cluster);
    c.nack(clusters, "", `Unable to create Wasm plugin guard@${sha.slice(0, 8)}`);
    await waitFor("ignored", () => app.monitor.ignored.notSent >= 1);
    expect(app.versions.quarantined("guard")).toEqual([]);
    expect(app.versions.lastGood("guard")?.sha256).toBe(sha);
  });

  it("ignores (and counts) crash stats from a node that never connected over xDS", async () => {
    const { app, sha } = await start(1);
    const s = openRawStream(`127.0.0.1:${app.xdsAddress.port}`, METRICS_SERVICE_PATH, "envoy.service.metrics.v3.StreamMetricsMessage");
    const stat = `wasm.guard@${sha.slice(0, 8)}.vm_reload_success`;
    s.write({ identifier: { node: { id: "ghost", cluster: "edge" } }, envoy_metrics: [counter(stat, 0)] });
    for (const v of [3, 9, 27]) s.write({ envoy_metrics: [counter(stat, v)] });
    await waitFor("ignored", () => app.monitor.ignored.notConnected >= 1);
    s.end();
    expect(app.versions.quarantined("guard")).toEqual([]);
  });

  it("does not let one node of four condemn a version the other three run healthily", async () => {
    const { app, sha } = await start(3);
    await nackGuard("lone", sha);
    const held = await waitFor("held back", () => app.events.list({ types: ["breach-held"] })[0]);
    expect(held.message).toMatch(/only 1 of 4 node\(s\) holding it complained, nodeShare 0.5 needs 2/);
    await app.monitor.evaluate();
    expect(app.versions.quarantined("guard")).toEqual([]);
    expect(app.events.list({ types: ["rollback"] })).toEqual([]);
  });

  it("still condemns at once when the only node holding the version NACKs it (a slice of one)", async () => {
    const { app, sha } = await start(0);
    await nackGuard("only", sha);
    await waitFor("quarantined", () => app.versions.quarantined("guard")[0]);
    expect(app.events.list({ types: ["rollback"] })[0]!.message).toMatch(/1 of 1 node\(s\) holding it/);
  });

  it("never blocks other edits, a new version of the filter, or a start because of a quarantine", async () => {
    const { app: first, sha } = await start(0);
    await nackGuard("only", sha);
    await waitFor("quarantined", () => first.versions.quarantined("guard")[0]);
    // Nothing else to serve: the quarantined version stays, said loudly with how to clear it.
    const served = await waitFor("quarantine-served", () => first.events.list({ types: ["quarantine-served"] })[0]);
    expect(served.message).toMatch(/quarantine\/clear/);

    // An unrelated edit (a cluster endpoint) publishes.
    await writeFile(join(dir!, "wasmxds.yaml"), guardYaml({ module: "good_http" }).replace("127.0.0.1:8080", "127.0.0.1:8081"));
    const edit = await first.reload();
    expect(edit.ok).toBe(true);
    // A new version of the same filter publishes and is served.
    const next = await setGuard(dir!, { module: "trap_on_header" });
    expect((await first.reload()).ok).toBe(true);
    expect(first.publisher.published!.modules.get("guard")).toBe(next);

    // Back to the quarantined version, then a restart: it starts, serves it, says so, and the admin API clears it.
    await setGuard(dir!, { module: "good_http" });
    await first.close();
    const logger = memoryLogger();
    app = await startTestApp(dir!, { logger, clock: testClock() });
    expect(app.publisher.published!.modules.get("guard")).toBe(sha);
    expect(logger.records.some((r) => r.level === "error" && r.msg.includes("is quarantined and there is nothing else to serve"))).toBe(true);
    const res = await fetch(`http://127.0.0.1:${app.adminAddress!.port}/v1/filters/guard/quarantine/clear`, { method: "POST", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
    expect(app.versions.quarantined("guard")).toEqual([]);
  });
});
