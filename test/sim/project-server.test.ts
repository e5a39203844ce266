/**
 * Simulated Envoys against the project's own server: the XdsServer +
 * SnapshotCache (subscription order as the server sees it, NACKs recorded
 * with Envoy's words) and the whole product started with startWasmxds on a
 * temporary copy of config/ (inline and remote modules, a fleet with
 * per-node metadata, traffic, a module change, a bad module rolled out).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import type { RunningWasmxds } from "../../src/main";
import { SimFleet, SimNode } from "../../src/sim";
import { startTestApp } from "../helpers/app";
import { startHarness, type Harness } from "../helpers/xds-harness";
import { assignment, ecds, edsCluster, httpListener, moduleBytes, type Res, routeConfig, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;
const input = (list: Res[]) => list.map((r) => ({ name: r.name, message: r.message }));

describe("against XdsServer + SnapshotCache", () => {
  let harness: Harness;
  let node: SimNode;

  const snapshot = (filter: Res) =>
    Snapshot.create({
      [T.cluster]: input([edsCluster("backend")]),
      [T.endpoint]: input([assignment("backend", 8080)]),
      [T.extensionConfig]: input([filter]),
      [T.listener]: input([httpListener("ingress", 10000, [{ ecds: "f1" }])]),
      [T.route]: input([routeConfig("ingress", "backend")]),
    });

  beforeAll(async () => {
    harness = await startHarness();
    harness.cache.setDefaultSnapshot(snapshot(ecds("f1", wasmAny("http", { plugin: "f1@good", rootId: "good_http", code: { inline: moduleBytes("good_http") } }))));
    node = new SimNode({ id: "envoy-1", cluster: "edge", xdsAddress: `127.0.0.1:${harness.port}` });
    await node.start();
    await waitFor("LIVE", () => node.serverState === "LIVE");
  });

  afterAll(async () => {
    await node.stop();
    await harness.close();
  });

  it("subscribes CDS, EDS, LDS, then ECDS and RDS, and the server records every type as ACKed", async () => {
    const firsts = node.requests().filter((r) => r.responseNonce === "");
    expect(firsts.map((r) => r.typeUrl)).toEqual([T.cluster, T.endpoint, T.listener, T.extensionConfig, T.route]);
    expect(node.requests().filter((r) => r.withNode).length).toBe(1);
    await waitFor("server view", () => harness.xds.streamStatuses()[0]?.types.every((t) => t.acked?.version === t.sent?.version));
    const status = harness.xds.streamStatuses()[0];
    expect(status?.node?.id).toBe("envoy-1");
    expect(status?.types.map((t) => t.typeUrl).sort()).toEqual(Object.values(T).sort());
    expect(node.sendHttp()?.status).toBe(200);
  });

  it("NACKs a bad inline module; the server records Envoy's message and the kept version", async () => {
    const kept = node.versions().ECDS;
    const bad = ecds("f1", wasmAny("http", { plugin: "f1@bad", rootId: "configure_false", configuration: "{}", code: { inline: moduleBytes("configure_false") } }));
    harness.cache.setDefaultSnapshot(snapshot(bad));
    const nack = await waitFor("NACK at the server", () => harness.xds.nacks()[0]);
    expect(nack).toMatchObject({ nodeId: "envoy-1", typeUrl: T.extensionConfig, keptVersion: kept, message: "Unable to create Wasm plugin f1@bad", code: 13 });
    expect(node.versions().ECDS).toBe(kept);
    expect(node.sendHttp()?.status).toBe(200);
  });
});

describe("against startWasmxds on a copy of config/", () => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;

  const yaml = (extraFilter: string, listenerFilters: string) => `
filters:
  - { name: add-header, kind: http, module: modules/add_header.wasm, rootId: add_header, configuration: { header: x-wasmxds, value: hello }, code: inline }
  - { name: conn-guard, kind: network, module: modules/conn_guard.wasm, rootId: conn_guard, code: remote }
${extraFilter}
listeners:
  - { name: ingress, address: 127.0.0.1:10000, http: { filters: [${listenerFilters}], routes: [{ prefix: /, cluster: backend }] } }
  - { name: tcp-in, address: 127.0.0.1:10001, tcp: { filters: [conn-guard], cluster: backend } }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wasmxds-sim-"));
    await cp(join(import.meta.dirname, "../../config"), dir, { recursive: true });
    for (const m of ["trap_nth_request", "configure_false"]) {
      await writeFile(join(dir, "modules", `${m}.wasm`), await readFile(join(import.meta.dirname, `../fixtures/modules/${m}.wasm`)));
    }
    app = await startTestApp(dir, {
      adminAddress: null,
      // No pre-flight check: the modules must reach the Envoys, as they would from a control plane without one.
      checkModule: async () => ({ ok: true }),
    });
    fleet = new SimFleet({
      nodes: 3,
      idPrefix: "edge-",
      xdsAddress: `127.0.0.1:${app.xdsAddress.port}`,
      cluster: "edge",
      perNode: (i) => ({ metadata: { ring: i === 0 ? "canary" : "main" }, locality: { zone: `z${i}` } }),
    });
    await fleet.start();
    await waitFor("fleet LIVE", () => fleet.summary().live === 3);
  });

  afterAll(async () => {
    await fleet?.stop();
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("brings a fleet LIVE on the bundled example: inline HTTP filter and remote network filter", async () => {
    // Remote code over ECDS: each node NACKs conn-guard once as a cache miss, then loads the re-push (docs/HEALTH.md, "Remote code over ECDS").
    await waitFor("conn-guard on every node", () => fleet.nodes.every((n) => n.plugins().some((p) => p.name.startsWith("conn-guard@") && p.runningCodeSha256)));
    expect(new Set(app.xds.nacks().map((n) => n.message.replace(/@.*/, "")))).toEqual(new Set(["Unable to create Wasm plugin conn-guard"]));
    expect(app.versions.quarantined("conn-guard")).toEqual([]);
    const s = fleet.summary();
    expect(s).toMatchObject({ nodes: 3, connected: 3, live: 3 });
    for (const type of ["CDS", "EDS", "LDS", "RDS"]) expect(Object.values(s.versions[type] ?? {})).toEqual([3]);
    // Nodes re-pushed a different number of times hold different ECDS versions (the re-push URI's query).
    expect(Object.values(s.versions.ECDS ?? {}).reduce((a, b) => a + b, 0)).toBe(3);
    for (const node of fleet.nodes) {
      expect(node.sendHttp()?.upstreamHeaders).toContainEqual(["x-wasmxds", "hello"]);
      expect(node.openTcp()?.closed).toBe("none");
      expect(node.stats.get("wasm.remote_load_fetch_successes")).toBeGreaterThanOrEqual(1);
    }
    const nodes = app.xds.streamStatuses().map((st) => st.node);
    expect(nodes.map((n) => n?.metadata.ring).sort()).toEqual(["canary", "main", "main"]);
    expect(fleet.summary()).toMatchObject({ ok: 6, failed: 0 });
  });

  it("picks up a new filter (listener and ECDS update) and runs it (trap_nth_request, FAIL_CLOSED)", async () => {
    const lds = fleet.nodes[0]?.versions().LDS;
    await writeFile(
      join(dir, "wasmxds.yaml"),
      yaml(`  - { name: nth, kind: http, module: modules/trap_nth_request.wasm, rootId: trap_nth_request, configuration: { crashAfter: 2 }, code: inline }`, "add-header, nth"),
    );
    expect((await app.reload()).ok).toBe(true);
    const node = fleet.nodes[0] as SimNode;
    await waitFor("the nth filter", () => node.plugins().some((p) => p.name.startsWith("nth@")) && node.listeners().every((l) => l.state === "active"));
    expect(node.versions().LDS).not.toBe(lds);
    expect([1, 2, 3].map(() => node.sendHttp({}, "ingress")?.details)).toEqual(["via_upstream", "wasm_fail_stream", "wasm_fail_stream"]);
  });

  it("a module that fails on_configure is NACKed by every node and the server sees it", async () => {
    await writeFile(
      join(dir, "wasmxds.yaml"),
      yaml(`  - { name: nth, kind: http, module: modules/configure_false.wasm, rootId: configure_false, configuration: { ok: false }, code: inline }`, "add-header, nth"),
    );
    const before = app.xds.nacks().length;
    const nackedBefore = fleet.summary().nacks;
    expect((await app.reload()).ok).toBe(true);
    await waitFor("3 NACKs", () => app.xds.nacks().length >= before + 3);
    const messages = new Set(app.xds.nacks().slice(before).map((n) => n.message));
    expect([...messages]).toHaveLength(1);
    expect([...messages][0]).toMatch(/^Unable to create Wasm plugin nth@[0-9a-f]{8}$/);
    expect(fleet.summary().nacks - nackedBefore).toBe(3);
  });
});
