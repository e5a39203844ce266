/**
 * Automatic rollback under FAIL_CLOSED out of the box (issue 14): simulated
 * Envoys that know only what envoy/bootstrap.yaml gives them (the
 * control-plane cluster's name; no access log, no stats sink) get every
 * listener from wasmxds, failure reports included. A version that traps on
 * its 50th request fails every later request on that node (FAIL_CLOSED emits
 * no wasm counter); the access log entries (wasm_fail_stream) name the
 * listener, the monitor pins them on the version the listener runs there,
 * and the version is rolled back on every node within 10 s of the first
 * failure. The same for a network filter that fails connections.
 */
import { copyFile, mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { RunningWasmxds } from "../../src/main";
import { SimFleet, type SimNode } from "../../src/sim";
import { startTestApp } from "../helpers/app";
import { waitFor } from "../helpers/wait";
import { XDS_APIS } from "../helpers/xds-apis";

const ROOT = join(import.meta.dirname, "../..");
const MODULES = join(ROOT, "test/fixtures/modules");

/** The control-plane cluster the bootstrap names for ADS; the bootstrap itself carries no access log. */
async function bootstrapCluster(): Promise<string> {
  const text = await readFile(join(ROOT, "envoy/bootstrap.yaml"), "utf8");
  expect(text).not.toMatch(/access_log/);
  const b = parse(text) as { dynamic_resources: { ads_config: { grpc_services: { envoy_grpc: { cluster_name: string } }[] } } };
  return b.dynamic_resources.ads_config.grpc_services[0]?.envoy_grpc.cluster_name ?? "";
}

// Each filter's module file is swapped in place (as a user saves a new build); rootId "" serves any root.
const yaml = (guardConfiguration?: string) => `
filters:
  - { name: guard, kind: http, module: modules/guard.wasm, rootId: ""${guardConfiguration ? `, configuration: ${guardConfiguration}` : ""} }
  - { name: shield, kind: network, module: modules/shield.wasm, rootId: "" }
listeners:
  - { name: web, address: 127.0.0.1:10000, http: { filters: [guard], routes: [{ prefix: /, cluster: backend }] } }
  - { name: raw, address: 127.0.0.1:10001, tcp: { filters: [shield], cluster: backend } }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`;

async function save(dir: string, guard: string, shield: string, guardConfiguration?: string): Promise<void> {
  await copyFile(join(MODULES, `${guard}.wasm`), join(dir, "modules/guard.wasm"));
  await copyFile(join(MODULES, `${shield}.wasm`), join(dir, "modules/shield.wasm"));
  await writeFile(join(dir, "wasmxds.yaml"), yaml(guardConfiguration));
}

function running(node: SimNode, filter: string): string | undefined {
  return node.plugins().find((p) => p.name.startsWith(`${filter}@`))?.name;
}

describe.each(XDS_APIS)("rollback under FAIL_CLOSED from the failure reports alone (%s xDS)", (xdsApi) => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;
  let goodGuard: (string | undefined)[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wasmxds-fail-closed-"));
    await import("node:fs/promises").then((fs) => fs.mkdir(join(dir, "modules")));
    await save(dir, "good_http", "good_network");
    app = await startTestApp(dir);
    const controlPlaneCluster = await bootstrapCluster();
    // Traffic only on the HTTP listener at first: 50 requests a second per node.
    fleet = new SimFleet({ nodes: 3, idPrefix: "edge-", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, controlPlaneCluster, traffic: { rps: 50 }, xdsApi });
    await fleet.start();
    await waitFor("fleet LIVE on the good versions", () => fleet.nodes.every((n) => n.serverState === "LIVE" && running(n, "guard") && running(n, "shield")), 10_000);
  });

  afterAll(async () => {
    await fleet?.stop();
    await app?.close(0);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("rolls back an HTTP filter that traps on its 50th request, on every node, within 10 s of the first failure", async () => {
    const good = fleet.nodes.map((n) => running(n, "guard"));
    let firstFailure: number | undefined;
    for (const n of fleet.nodes) {
      n.events.on((e) => {
        if (e.kind === "http" && e.outcome.details === "wasm_fail_stream") firstFailure ??= Date.now();
      });
    }
    await save(dir, "trap_nth_request", "good_network", '{"crashAfter":50}');
    expect((await app.reload()).ok).toBe(true);
    await waitFor("the bad version on a node", () => fleet.nodes.some((n) => running(n, "guard") !== good[0]), 10_000);
    const rollback = await waitFor("rollback", () => app.events.list({ types: ["rollback"] }).find((e) => e.message.startsWith("guard@")), 20_000);
    const decided = Date.now();
    expect(firstFailure).toBeDefined();
    expect(decided - (firstFailure ?? 0)).toBeLessThan(10_000);
    expect(rollback.message).toMatch(/wasm_fail_stream/);
    expect(app.versions.quarantined("guard")).toHaveLength(1);
    // Nothing but the access log reported it: FAIL_CLOSED leaves no reload counter.
    for (const n of fleet.nodes) expect(n.stats.all().some((s) => s.name.includes("vm_reload") && s.value > 0)).toBe(false);
    goodGuard = good;
  }, 40_000);

  // Regression: the fallback to guard@<good> kept the folder's newer configuration ({"crashAfter":50}) because
  // the good version had none, good_http's on_configure refused it, and the nodes kept the quarantined version.
  it("puts every node back on the known-good HTTP filter after that rollback", async () => {
    await waitFor("every node back on the good version", () => fleet.nodes.every((n, i) => running(n, "guard") === goodGuard[i]), 5_000);
  }, 10_000);

  it("rolls back a network filter that fails connections under FAIL_CLOSED", async () => {
    const good = fleet.nodes.map((n) => running(n, "shield"));
    await save(dir, "good_http", "network_trap");
    expect((await app.reload()).ok).toBe(true);
    await waitFor("the bad network filter on every node", () => fleet.nodes.every((n, i) => running(n, "shield") !== good[i]), 10_000);
    const started = Date.now();
    // Connections through the TCP listener: the first traps, later ones fail on the failed VM.
    const timer = setInterval(() => {
      for (const n of fleet.nodes) n.openTcp({}, "raw");
    }, 50);
    try {
      const rollback = await waitFor("rollback", () => app.events.list({ types: ["rollback"] }).find((e) => e.message.startsWith("shield@")), 20_000);
      expect(rollback.message).toMatch(/wasm_fail_connection/);
      await waitFor("every node back on the good network filter", () => fleet.nodes.every((n, i) => running(n, "shield") === good[i]), 10_000);
      expect(Date.now() - started).toBeLessThan(10_000);
      for (const n of fleet.nodes) expect(n.openTcp({}, "raw")?.closed).toBe("none");
    } finally {
      clearInterval(timer);
    }
  }, 40_000);
});
