/**
 * Node identity bound to client certificates (issue 15, --node-identity):
 * with `cn`, a certificate for edge-1 cannot open an xDS stream as edge-2
 * (PERMISSION_DENIED naming both), nor push stats or access logs for
 * edge-2; `san-uri` checks SPIFFE IDs; with `off`, any node id is served,
 * as before. Real gRPC clients over mTLS to the whole control plane.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WasmxdsError } from "../../src/errors";
import { ACCESS_LOG_SERVICE_PATH } from "../../src/health/access-log-service";
import { METRICS_SERVICE_PATH } from "../../src/health/metrics-service";
import type { RunningWasmxds } from "../../src/main";
import type { NodeIdentityMode } from "../../src/net/node-identity";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";
import { type TestCa, type TlsFiles, clientCredentials, makeCa, makeLeaf, makeServerCert, writeTlsFiles } from "../helpers/certificates";
import { guardFolder, removeFolder } from "../helpers/config-folder";
import { openRawStream } from "../helpers/ingest-harness";

describe("node identity bound to client certificates", () => {
  let dir: string;
  let ca: TestCa;
  let files: TlsFiles;
  let edge1: grpc.ChannelCredentials;
  const apps: RunningWasmxds[] = [];
  const clients: AdsClient[] = [];

  const start = async (nodeIdentity: NodeIdentityMode) => {
    const app = await startTestApp(dir, { stateDir: null, tls: files, nodeIdentity });
    apps.push(app);
    return app;
  };
  const ads = (app: RunningWasmxds, id: string, credentials: grpc.ChannelCredentials) => {
    const c = new AdsClient(app.xdsAddress.port, { id, cluster: "edge" }, credentials);
    clients.push(c);
    c.request({ typeUrl: TYPE_URLS.listener });
    return c;
  };
  const push = async (app: RunningWasmxds, path: string, type: string, message: object, credentials: grpc.ChannelCredentials) => {
    const s = openRawStream(`127.0.0.1:${app.xdsAddress.port}`, path, type, credentials);
    s.write(message);
    s.end();
    return s.done;
  };
  const metrics = (app: RunningWasmxds, id: string, credentials: grpc.ChannelCredentials) =>
    push(app, METRICS_SERVICE_PATH, "envoy.service.metrics.v3.StreamMetricsMessage", { identifier: { node: { id } }, envoy_metrics: [] }, credentials);
  const accessLogs = (app: RunningWasmxds, id: string, credentials: grpc.ChannelCredentials) =>
    push(app, ACCESS_LOG_SERVICE_PATH, "envoy.service.accesslog.v3.StreamAccessLogsMessage", { identifier: { node: { id }, log_name: "wasmxds/x" } }, credentials);

  beforeAll(async () => {
    dir = await guardFolder({ module: "good_http" });
    ca = await makeCa();
    files = await writeTlsFiles(await mkdtemp(join(tmpdir(), "wasmxds-identity-")), await makeServerCert(ca), ca);
    edge1 = clientCredentials(ca, await makeLeaf(ca, { cn: "edge-1", dns: ["edge-1.mesh"], uris: ["spiffe://mesh.test/ns/edge/sa/edge-1"] }));
  });
  afterAll(async () => {
    for (const c of clients) c.cancel();
    for (const app of apps) await app.close(0);
    await removeFolder(dir);
  });

  it("cn: a certificate for edge-1 is served as edge-1 and refused as edge-2, naming both", async () => {
    const app = await start("cn");
    expect((await ads(app, "edge-1", edge1).next(TYPE_URLS.listener)).resources.length).toBeGreaterThan(0);
    const posing = await ads(app, "edge-2", edge1).ended;
    expect(posing.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(posing.details).toBe('node id "edge-2" does not match the client certificate\'s subject CN ("edge-1") (--node-identity cn)');
    expect(app.xds.nodeInfo("edge-2")).toBeUndefined();
  });

  it("cn: stats and access logs can be pushed only for the node the certificate names", async () => {
    const app = await start("cn");
    expect((await metrics(app, "edge-1", edge1)).code).toBe(grpc.status.OK);
    const stats = await metrics(app, "edge-2", edge1);
    expect(stats.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(stats.details).toMatch(/node id "edge-2" does not match the client certificate's subject CN \("edge-1"\)/);
    expect((await accessLogs(app, "edge-1", edge1)).code).toBe(grpc.status.OK);
    expect((await accessLogs(app, "edge-2", edge1)).code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("san-uri (SPIFFE) and san-dns compare the certificate's subject alternative names", async () => {
    const spiffe = await start("san-uri");
    expect((await ads(spiffe, "spiffe://mesh.test/ns/edge/sa/edge-1", edge1).next(TYPE_URLS.listener)).resources.length).toBeGreaterThan(0);
    const posing = await ads(spiffe, "edge-1", edge1).ended;
    expect(posing.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(posing.details).toContain('URI subject alternative names ("spiffe://mesh.test/ns/edge/sa/edge-1")');
    const dns = await start("san-dns");
    expect((await ads(dns, "edge-1.mesh", edge1).next(TYPE_URLS.listener)).resources.length).toBeGreaterThan(0);
    expect((await ads(dns, "edge-2.mesh", edge1).ended).code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("off: any node id is served over mTLS, as before", async () => {
    const app = await start("off");
    expect((await ads(app, "edge-2", edge1).next(TYPE_URLS.listener)).resources.length).toBeGreaterThan(0);
    expect((await metrics(app, "edge-2", edge1)).code).toBe(grpc.status.OK);
  });

  it("refuses to start with a node identity but no client CA", async () => {
    const started = startTestApp(dir, { stateDir: null, tls: { certFile: files.certFile, keyFile: files.keyFile }, nodeIdentity: "cn" });
    await expect(started).rejects.toThrow(WasmxdsError);
    await expect(started).rejects.toThrow(/--node-identity cn needs client certificates/);
  });
});
