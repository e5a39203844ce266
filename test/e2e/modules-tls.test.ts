/**
 * The module server over TLS (issue 15, `--modules-tls`, `--modules-ca`):
 * remote code is served over https on the gRPC port's certificate; the
 * wasmxds_modules cluster tells Envoy to use TLS, verify the chain against
 * the CA and match the host as SAN; a simulated Envoy (which fetches remote
 * code as Envoy does, through that cluster) loads the filter over it; a
 * rotated certificate reaches new connections without a restart.
 */
import { X509Certificate } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cluster__Output } from "../../src/generated/envoy/config/cluster/v3/Cluster";
import type { UpstreamTlsContext__Output } from "../../src/generated/envoy/extensions/transport_sockets/tls/v3/UpstreamTlsContext";
import type { RunningWasmxds } from "../../src/main";
import { decodeMessage, unpackAny } from "../../src/proto/registry";
import { SimFleet } from "../../src/sim";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";
import { type TestCa, type TlsFiles, clientCredentials, makeCa, makeLeaf, makeServerCert, writeTlsFiles } from "../helpers/certificates";
import { guardConfig, removeFolder, tempConfigFolder, writeGuard } from "../helpers/config-folder";
import { runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { fixture } from "../helpers/wasm-bytes";

/** GET over https trusting `ca`: status, body and the certificate the server presented. */
function fetchModule(url: string, ca: string): Promise<{ status: number; body: Buffer; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const fingerprint = (res.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? "";
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), fingerprint }));
    });
    req.on("error", reject);
  });
}

describe("--modules-tls", () => {
  let ca: TestCa;
  let files: TlsFiles;
  let dir: string;
  let sha: string;
  let app: RunningWasmxds;
  let fleet: SimFleet | undefined;

  beforeAll(async () => {
    ca = await makeCa();
    files = await writeTlsFiles(await mkdtemp(join(tmpdir(), "wasmxds-modules-tls-")), await makeServerCert(ca), ca);
    dir = await tempConfigFolder({}, "wasmxds-modules-tls-");
    sha = await writeGuard(dir, guardConfig(["code: remote", "failurePolicy: FAIL_RELOAD", "configuration: {}"]), fixture("good_http"));
    app = await startTestApp(dir, { stateDir: null, tls: files, modulesTls: { caFile: files.clientCaFile } });
  });
  afterAll(async () => {
    await fleet?.stop();
    await app?.close(0);
    await removeFolder(dir);
  });

  it("serves modules over https and tells Envoy to verify the CA and the host", async () => {
    const url = `https://127.0.0.1:${app.modulesAddress.port}/modules/${sha}.wasm`;
    const served = await fetchModule(url, ca.cert);
    expect(served.status).toBe(200);
    expect(served.body.equals(fixture("good_http"))).toBe(true);

    const client = new AdsClient(app.xdsAddress.port, { id: "reader", cluster: "edge" }, clientCredentials(ca, await makeLeaf(ca, { cn: "reader" })));
    try {
      client.request({ typeUrl: TYPE_URLS.cluster });
      const clusters = (await client.next(TYPE_URLS.cluster)).resources.map((r) => unpackAny<Cluster__Output>(r));
      const modules = clusters.find((c) => c.name === "wasmxds_modules");
      expect(modules?.transport_socket?.name).toBe("envoy.transport_sockets.tls");
      const any = modules?.transport_socket?.typed_config;
      if (!any) throw new Error("wasmxds_modules has no transport socket config");
      const context = decodeMessage<UpstreamTlsContext__Output>("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", any.value);
      expect(context.common_tls_context?.validation_context?.trusted_ca?.inline_string).toBe(ca.cert);
      expect(context.common_tls_context?.validation_context?.match_typed_subject_alt_names).toMatchObject([{ san_type: "IP_ADDRESS", matcher: { exact: "127.0.0.1" } }]);
    } finally {
      client.cancel();
    }
  });

  it("a simulated Envoy loads the filter's remote code over the verified https cluster", async () => {
    const leaf = await makeLeaf(ca, { cn: "m0" });
    fleet = new SimFleet({ nodes: 1, idPrefix: "m", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, perNode: () => ({ tls: { ca: ca.cert, cert: leaf.cert, key: leaf.key } }) });
    await fleet.start();
    const node = fleet.node("m0");
    if (!node) throw new Error("no node m0");
    await waitFor("m0 runs the guard fetched over https", () => runningGuard(node) === sha, 15_000);
  });

  it("a rotated certificate reaches new module connections without a restart", async () => {
    const before = (await fetchModule(`https://127.0.0.1:${app.modulesAddress.port}/modules/${sha}.wasm`, ca.cert)).fingerprint;
    const next = await makeServerCert(ca);
    await writeFile(files.certFile, next.cert);
    await writeFile(files.keyFile, next.key);
    // The gRPC port's CertificateFiles re-reads on its timer; the module server follows it.
    const expected = new X509Certificate(next.cert).fingerprint256;
    expect(expected).not.toBe(before);
    let seen = before;
    for (const deadline = Date.now() + 15_000; seen !== expected && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 200));
      seen = (await fetchModule(`https://127.0.0.1:${app.modulesAddress.port}/modules/${sha}.wasm`, ca.cert)).fingerprint;
    }
    expect(seen).toBe(expected);
  });
});
