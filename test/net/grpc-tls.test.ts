/**
 * TLS on the gRPC port (issue 15): with --tls-cert, --tls-key and
 * --client-ca, a raw ADS client presenting a certificate from the CA is
 * served; one without a certificate, with one from another CA, with an
 * expired one, or speaking plaintext is refused at the handshake. The
 * metrics service on the same port is behind the same handshake. Test
 * certificates are made here (test/helpers/certificates.ts).
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WasmxdsError } from "../../src/errors";
import { METRICS_SERVICE_PATH } from "../../src/health/metrics-service";
import type { RunningWasmxds } from "../../src/main";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";
import { type Pem, type TestCa, type TlsFiles, clientCredentials, makeCa, makeLeaf, makeServerCert, writeTlsFiles } from "../helpers/certificates";
import { guardFolder, removeFolder } from "../helpers/config-folder";
import { openRawStream } from "../helpers/ingest-harness";

const DAY = 24 * 3600_000;

describe("TLS on the xDS port", () => {
  let dir: string;
  let ca: TestCa;
  let files: TlsFiles;
  let app: RunningWasmxds;
  const open: AdsClient[] = [];

  const ads = (id: string, credentials: grpc.ChannelCredentials) => {
    const c = new AdsClient(app.xdsAddress.port, { id, cluster: "edge" }, credentials);
    open.push(c);
    c.request({ typeUrl: TYPE_URLS.listener });
    return c;
  };

  beforeAll(async () => {
    dir = await guardFolder({ module: "good_http" });
    ca = await makeCa();
    files = await writeTlsFiles(await mkdtemp(join(tmpdir(), "wasmxds-tls-")), await makeServerCert(ca), ca);
    app = await startTestApp(dir, { stateDir: null, tls: files });
  });
  afterAll(async () => {
    for (const c of open) c.cancel();
    await app?.close(0);
    await removeFolder(dir);
  });

  it("serves a client presenting a certificate signed by the client CA", async () => {
    const c = ads("edge-1", clientCredentials(ca, await makeLeaf(ca, { cn: "edge-1" })));
    const lds = await c.next(TYPE_URLS.listener);
    expect(lds.resources.length).toBeGreaterThan(0);
  });

  it("refuses at the handshake a client without a certificate, with one from another CA, expired, or in plaintext", async () => {
    const other = await makeCa("another CA");
    const refused: Array<[string, grpc.ChannelCredentials]> = [
      ["no certificate", clientCredentials(ca)],
      ["another CA", clientCredentials(ca, await makeLeaf(other, { cn: "edge-1" }))],
      ["expired", clientCredentials(ca, await makeLeaf(ca, { cn: "edge-1", notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) }))],
      ["plaintext", grpc.credentials.createInsecure()],
    ];
    const edge1Streams = () => app.xds.streamStatuses().filter((s) => s.node?.id === "edge-1").length;
    const before = edge1Streams();
    for (const [why, credentials] of refused) {
      const status = await ads("edge-1", credentials).ended;
      // The handshake fails, so no call is ever made: grpc-js reports UNAVAILABLE.
      expect({ why, code: status.code }).toEqual({ why, code: grpc.status.UNAVAILABLE });
    }
    // None of them reached the xDS server.
    expect(edge1Streams()).toBe(before);
  });

  it("puts the metrics service behind the same handshake", async () => {
    const message = { identifier: { node: { id: "edge-1" } }, envoy_metrics: [] };
    const address = `127.0.0.1:${app.xdsAddress.port}`;
    const good = openRawStream(address, METRICS_SERVICE_PATH, "envoy.service.metrics.v3.StreamMetricsMessage", clientCredentials(ca, await makeLeaf(ca, { cn: "edge-1" })));
    good.write(message);
    good.end();
    expect((await good.done).code).toBe(grpc.status.OK);
    const bare = openRawStream(address, METRICS_SERVICE_PATH, "envoy.service.metrics.v3.StreamMetricsMessage", clientCredentials(ca));
    bare.write(message);
    bare.end();
    expect((await bare.done).code).toBe(grpc.status.UNAVAILABLE);
  });

  it("shuts down with mTLS streams open: closed within the grace period", async () => {
    const other = await startTestApp(dir, { stateDir: null, tls: files });
    const c = new AdsClient(other.xdsAddress.port, { id: "edge-9" }, clientCredentials(ca, await makeLeaf(ca, { cn: "edge-9" })));
    open.push(c);
    c.request({ typeUrl: TYPE_URLS.listener });
    await c.next(TYPE_URLS.listener);
    const started = Date.now();
    await other.close(200);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await c.ended).code).toBe(grpc.status.OK);
  });

  it("refuses to start on a key that is not the certificate's, naming the file", async () => {
    const stranger: Pem = await makeLeaf(ca, { cn: "someone else" });
    const bad = await writeTlsFiles(await mkdtemp(join(tmpdir(), "wasmxds-tls-")), { cert: (await makeServerCert(ca)).cert, key: stranger.key }, ca);
    const started = startTestApp(dir, { stateDir: null, tls: bad });
    await expect(started).rejects.toThrow(WasmxdsError);
    await expect(started).rejects.toThrow(/--tls-key .*server-key\.pem: is not the private key of the certificate in .*server\.pem/);
  });
});
