/**
 * The simulator over mTLS (issue 15): simulated Envoys presenting
 * certificates from the client CA reach a control plane started with
 * --tls-cert/--tls-key/--client-ca and --node-identity cn, get LIVE, and a
 * version crashing in production is rolled back from stats pushed over the
 * secured metrics service (bound to the node each certificate names).
 * Certificates are made at test time (test/helpers/certificates.ts).
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { SimFleet, type SimFleetOptions, type SimTlsOptions } from "../../src/sim";
import { startTestApp } from "../helpers/app";
import { type TestCa, type TlsFiles, makeCa, makeLeaf, makeServerCert, writeTlsFiles } from "../helpers/certificates";
import { guardFolder, setGuard } from "../helpers/config-folder";
import { cleanup, runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";

describe("the simulator over mTLS", () => {
  let ca: TestCa;
  let files: TlsFiles;
  let dir: string | undefined;
  let app: RunningWasmxds | undefined;
  let fleet: SimFleet | undefined;

  /** TLS options for node `id`: its own certificate (CN = node id) and the CA. */
  const nodeTls = async (id: string, signer: TestCa = ca): Promise<SimTlsOptions> => {
    const leaf = await makeLeaf(signer, { cn: id });
    return { ca: ca.cert, cert: leaf.cert, key: leaf.key };
  };

  beforeAll(async () => {
    ca = await makeCa();
    files = await writeTlsFiles(await mkdtemp(join(tmpdir(), "wasmxds-sim-tls-")), await makeServerCert(ca), ca);
  });
  afterEach(async () => {
    await cleanup(fleet, app, dir);
    fleet = app = dir = undefined;
  });

  async function secured(nodes: number, extra: Partial<SimFleetOptions> = {}) {
    const tls = await Promise.all(Array.from({ length: nodes }, (_, i) => nodeTls(`m${i}`)));
    fleet = new SimFleet({ nodes, idPrefix: "m", xdsAddress: `127.0.0.1:${app!.xdsAddress.port}`, perNode: (i) => ({ tls: tls[i] }), ...extra });
    await fleet.start();
    return fleet;
  }

  it("gets a fleet LIVE over mTLS with node identity bound to the certificate CN", async () => {
    dir = await guardFolder({ module: "good_http" });
    app = await startTestApp(dir, { stateDir: null, tls: files, nodeIdentity: "cn" });
    const f = await secured(2);
    await waitFor("fleet LIVE", () => f.summary().live === 2, 10_000);
    expect(app.xds.streamStatuses().map((s) => s.node?.id).sort()).toEqual(["m0", "m1"]);
  });

  it("checks the server's certificate for --tls-server-name instead of the address's host", async () => {
    dir = await guardFolder({ module: "good_http" });
    app = await startTestApp(dir, { stateDir: null, tls: files, nodeIdentity: "cn" });
    const [named, wrong] = [await nodeTls("m0"), await nodeTls("m1")];
    // The server's certificate names localhost and 127.0.0.1, not wasmxds.example.internal.
    const servers = [{ ...named, serverName: "localhost" }, { ...wrong, serverName: "wasmxds.example.internal" }];
    fleet = new SimFleet({ nodes: 2, idPrefix: "m", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, perNode: (i) => ({ tls: servers[i] }) });
    await fleet.start();
    await waitFor("m0 LIVE", () => fleet!.node("m0")!.serverState === "LIVE", 10_000);
    expect(fleet.node("m1")!.serverState).not.toBe("LIVE");
    expect(app.xds.streamStatuses().map((s) => s.node?.id)).toEqual(["m0"]);
  });

  it("a node without a client certificate, or with one from another CA, never gets LIVE", async () => {
    dir = await guardFolder({ module: "good_http" });
    app = await startTestApp(dir, { stateDir: null, tls: files, nodeIdentity: "cn" });
    const other = await makeCa("another CA");
    const bad = [{ ca: ca.cert }, await nodeTls("m1", other)];
    const good = await nodeTls("m2");
    fleet = new SimFleet({ nodes: 3, idPrefix: "m", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, perNode: (i) => ({ tls: bad[i] ?? good }) });
    await fleet.start();
    // The one node with a good certificate gets LIVE; the other two were refused at the handshake.
    await waitFor("m2 LIVE", () => fleet!.node("m2")!.serverState === "LIVE", 10_000);
    expect(fleet.summary().live).toBe(1);
    expect(app.xds.streamStatuses().map((s) => s.node?.id)).toEqual(["m2"]);
  });

  it("rolls back a version crashing in production from stats pushed over the secured metrics service", async () => {
    dir = await guardFolder({ module: "good_http", extra: "    smokeTest: true", goodAfter: "30s" });
    app = await startTestApp(dir, { tls: files, nodeIdentity: "cn" });
    const good = app.publisher.published!.modules.get("guard")!;
    const f = await secured(3, { traffic: { rps: 40 }, metricsService: { flushIntervalMs: 250 } });
    await waitFor("fleet LIVE", () => f.summary().live === 3, 10_000);
    const bad = await setGuard(dir, { module: "trap_nth_request", configuration: '{"crashAfter":50}', extra: "    smokeTest: true", goodAfter: "30s" });
    expect((await app.reload()).ok).toBe(true);
    await waitFor("rollback", () => app!.events.list({ types: ["rollback"] })[0], 20_000);
    expect(app.events.list({ types: ["rollback"] })[0]!.message).toMatch(/vm_reload_success/);
    expect(app.versions.quarantined("guard")[0]).toMatchObject({ sha256: bad });
    await waitFor("every node back on the good version", () => f.nodes.every((n) => runningGuard(n) === good));
  });
});
