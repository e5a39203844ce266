/**
 * Rotating the gRPC port's certificate without a restart (issue 15): the
 * files are re-read on the control plane's clock, and a new connection
 * gets the new certificate while an open stream keeps going. A rotation
 * half done (the certificate written, its key not yet) is refused and the
 * old pair kept, so new connections are still served (grpc-js's own file
 * watcher would hand over the mismatched pair and drop every new
 * connection until the key arrived). A certificate expiring within 30 days
 * is reported (log and event).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { TLS_REFRESH_MS } from "../../src/net/grpc-tls";
import type { FakeClock } from "../../src/time/fake-clock";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";
import { type Pem, type TestCa, type TlsFiles, clientCredentials, makeCa, makeLeaf, makeServerCert, writeTlsFiles } from "../helpers/certificates";
import { testClock } from "../helpers/clock";
import { guardFolder, removeFolder } from "../helpers/config-folder";
import { waitFor } from "../helpers/wait";

const DAY = 24 * 3600_000;

/** The subject CN of the certificate the server presents to a new TLS connection. */
function serverCn(port: number, ca: TestCa, client: Pem): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca: ca.cert, cert: client.cert, key: client.key, ALPNProtocols: ["h2"] }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      resolve(String(cn));
    });
    socket.on("error", reject);
  });
}

describe("TLS certificate rotation", () => {
  let dir: string;
  let ca: TestCa;
  let client: Pem;
  let files: TlsFiles;
  let clock: FakeClock;
  let app: RunningWasmxds;
  let ads: AdsClient | undefined;

  const events = (type: string) => app.events.list({ types: [type] });

  beforeAll(async () => {
    dir = await guardFolder({ module: "good_http" });
    ca = await makeCa();
    client = await makeLeaf(ca, { cn: "edge-1" });
    files = await writeTlsFiles(await mkdtemp(join(tmpdir(), "wasmxds-rotation-")), await makeServerCert(ca, { cn: "wasmxds-1" }), ca);
    clock = testClock();
    app = await startTestApp(dir, { stateDir: null, tls: files, clock });
  });
  afterAll(async () => {
    ads?.cancel();
    await app?.close(0);
    await removeFolder(dir);
  });

  it("new connections get a replaced certificate once both files changed; a half-done rotation keeps the old pair", async () => {
    const port = app.xdsAddress.port;
    expect(await serverCn(port, ca, client)).toBe("wasmxds-1");
    ads = new AdsClient(port, { id: "edge-1" }, clientCredentials(ca, client));
    ads.request({ typeUrl: TYPE_URLS.listener });
    await ads.next(TYPE_URLS.listener);

    // 10 days left: also reported as expiring.
    const next = await makeServerCert(ca, { cn: "wasmxds-2", notAfter: new Date(Date.now() + 10 * DAY + 3600_000) });
    await writeFile(files.certFile, next.cert);
    clock.advance(TLS_REFRESH_MS);
    const refused = await waitFor("the half-done rotation refused", () => events("tls-reload-failed")[0]);
    expect(refused.message).toMatch(/--tls-key .*server-key\.pem: is not the private key of the certificate in .*server\.pem/);
    expect(await serverCn(port, ca, client)).toBe("wasmxds-1");

    await writeFile(files.keyFile, next.key);
    clock.advance(TLS_REFRESH_MS);
    await waitFor("the new pair loaded", () => events("tls-reloaded")[0]);
    expect(await serverCn(port, ca, client)).toBe("wasmxds-2");
    expect(events("tls-expiring")[0]?.message).toMatch(/the TLS certificate .*server\.pem expires in 10 days/);

    // The stream opened before the rotation is still served.
    expect(app.xds.nodeInfo("edge-1")).toBeDefined();
  });

  it("a key file missing for a while is reported each time it goes, and the pair in use keeps serving", async () => {
    const port = app.xdsAddress.port;
    const before = await serverCn(port, ca, client);
    const key = await readFile(files.keyFile);
    const failures = () => events("tls-reload-failed").filter((e) => /ENOENT/.test(e.message)).length;
    for (const round of [1, 2]) {
      await rm(files.keyFile);
      clock.advance(TLS_REFRESH_MS);
      await waitFor(`missing key reported (round ${round})`, () => failures() === round);
      expect(await serverCn(port, ca, client)).toBe(before);
      await writeFile(files.keyFile, key);
      clock.advance(TLS_REFRESH_MS);
      // The unchanged set is read back; nothing is reloaded.
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(failures()).toBe(2);
  });

  it("a replaced client CA bundle admits certificates from the new CA on new connections", async () => {
    const port = app.xdsAddress.port;
    const newCa = await makeCa("next client CA");
    const edge7 = await makeLeaf(newCa, { cn: "edge-7" });
    // A credentials object each: grpc-js shares a subchannel (and its reconnect backoff after the refusal) between channels given the same one.
    const refused = new AdsClient(port, { id: "edge-7" }, clientCredentials(ca, edge7));
    refused.request({ typeUrl: TYPE_URLS.listener });
    expect((await refused.ended).code).toBe(grpc.status.UNAVAILABLE);
    const reloads = events("tls-reloaded").length;
    // Old and new CA in one bundle while Envoys move over (SECURITY.md).
    await writeFile(files.clientCaFile, `${ca.cert}\n${newCa.cert}\n`);
    clock.advance(TLS_REFRESH_MS);
    await waitFor("the new bundle loaded", () => events("tls-reloaded").length > reloads);
    const served = new AdsClient(port, { id: "edge-7" }, clientCredentials(ca, edge7));
    try {
      served.request({ typeUrl: TYPE_URLS.listener });
      expect((await served.next(TYPE_URLS.listener)).resources.length).toBeGreaterThan(0);
    } finally {
      served.cancel();
    }
  });

  it("reports an expiring certificate at start, once a day on the clock", async () => {
    const d = await mkdtemp(join(tmpdir(), "wasmxds-expiry-"));
    const soon = await writeTlsFiles(d, await makeServerCert(ca, { notAfter: new Date(Date.now() + 3 * DAY + 3600_000) }), ca);
    const c = testClock();
    // Loops on the clock tick hourly here, so that advancing it a day runs few of them.
    const other = await startTestApp(dir, { stateDir: null, tls: soon, clock: c, healthTiming: { evaluateEveryMs: 3600_000 } });
    try {
      const expiring = () => other.events.list({ types: ["tls-expiring"] });
      expect(expiring().map((e) => e.message)).toEqual([expect.stringMatching(/the TLS certificate .*server\.pem expires in 3 days/)]);
      c.advance(TLS_REFRESH_MS);
      await new Promise((r) => setTimeout(r, 50));
      expect(expiring()).toHaveLength(1);
      c.advance(DAY);
      await waitFor("a second warning a day later", () => expiring().length === 2);
    } finally {
      await other.close(0);
    }
  });
});
