/**
 * The gRPC project's xDS client over mTLS (issue 15). @grpc/grpc-js-xds
 * 1.14.1, the newest release, accepts only `insecure` and `google_default`
 * channel_creds for its xDS server (xds-bootstrap.js,
 * SUPPORTED_CHANNEL_CREDS_TYPES): it cannot present a client certificate
 * itself. Proxyless gRPC meshes reach an mTLS control plane the way Istio
 * does, through a local agent that holds the workload's certificate and
 * originates TLS (istio-agent's xDS proxy). This test runs that shape with
 * real parts: the client speaks plaintext to a loopback TLS tunnel holding
 * the certificate for `grpc-client-1`, the tunnel speaks TLS with that
 * certificate to the xDS server, which requires client certificates and
 * binds node ids to them (`--node-identity cn`).
 */
import { type Server as NetServer, type Socket, createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import * as grpcXds from "@grpc/grpc-js-xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import type { XdsEvent } from "../../src/xds/events";
import { type Pem, type TestCa, makeCa, makeLeaf, makeServerCert } from "../helpers/certificates";
import { echoResources, startEcho, who } from "../helpers/grpc-xds-echo";
import { type Harness, startHarness } from "../helpers/xds-harness";

/** A loopback port whose connections are carried over TLS (with `client`'s certificate) to `target`. */
async function startTunnel(target: number, ca: Pem, client: Pem): Promise<{ port: number; server: NetServer; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((plain) => {
    const secure = tlsConnect({ host: "127.0.0.1", port: target, ca: ca.cert, cert: client.cert, key: client.key, servername: "localhost", ALPNProtocols: ["h2"] });
    for (const s of [plain, secure]) {
      sockets.add(s);
      s.on("error", () => {
        plain.destroy();
        secure.destroy();
      });
      s.on("close", () => sockets.delete(s));
    }
    plain.pipe(secure).pipe(plain);
  });
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  return {
    port,
    server,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

function xdsClient(serverPort: number, nodeId: string): grpc.Client {
  const bootstrap = {
    xds_servers: [{ server_uri: `127.0.0.1:${serverPort}`, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
    node: { id: nodeId, cluster: "tests", locality: {} },
  };
  return new grpc.Client("xds:///echo", grpc.credentials.createInsecure(), {
    "grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config": JSON.stringify(bootstrap),
    // One xDS client per test client: grpc-js-xds shares one per bootstrap otherwise.
    "grpc.use_local_subchannel_pool": 1,
  });
}

/** The status code a call failed with (fails the test if it succeeded). */
async function failure(call: Promise<string>): Promise<number> {
  const answer = await call.then(
    (name) => `answered by ${name}`,
    (err: { code?: number }) => err.code ?? -1,
  );
  if (typeof answer === "string") throw new Error(`expected the call to fail, it was ${answer}`);
  return answer;
}

describe("@grpc/grpc-js-xds over mTLS with node identity", () => {
  let h: Harness;
  let ca: TestCa;
  let echo: { port: number; server: grpc.Server };
  let tunnel: Awaited<ReturnType<typeof startTunnel>>;
  const clients: grpc.Client[] = [];
  const events: XdsEvent[] = [];

  beforeAll(async () => {
    grpcXds.register();
    ca = await makeCa();
    const server = await makeServerCert(ca);
    h = await startHarness({
      credentials: grpc.ServerCredentials.createSsl(Buffer.from(ca.cert), [{ cert_chain: Buffer.from(server.cert), private_key: Buffer.from(server.key) }], true),
      nodeIdentity: "cn",
    });
    h.xds.events.on((e) => events.push(e));
    echo = await startEcho("A");
    h.cache.setDefaultSnapshot(Snapshot.create(echoResources({ echoPort: echo.port })));
    tunnel = await startTunnel(h.port, ca, await makeLeaf(ca, { cn: "grpc-client-1" }));
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    tunnel?.close();
    await h?.close();
    echo?.server.forceShutdown();
  });

  it("is served as the node its certificate names, and makes real calls through what it received", async () => {
    const client = xdsClient(tunnel.port, "grpc-client-1");
    clients.push(client);
    expect(await who(client)).toBe("A");
    const acked = new Set(events.flatMap((e) => (e.kind === "ack" && e.node.id === "grpc-client-1" ? [e.typeUrl] : [])));
    expect(acked).toEqual(new Set([TYPE_URLS.listener, TYPE_URLS.route, TYPE_URLS.cluster, TYPE_URLS.endpoint]));
    expect(h.xds.nodeInfo("grpc-client-1")?.id).toBe("grpc-client-1");
  });

  it("cannot claim another node id with that certificate", async () => {
    const client = xdsClient(tunnel.port, "grpc-client-2");
    clients.push(client);
    // No configuration ever arrives: the call waits for it until its deadline.
    expect(await failure(who(client))).toBe(grpc.status.DEADLINE_EXCEEDED);
    await expect
      .poll(() => h.logger.records.find((r) => r.msg === "refusing an xDS stream: node id and client certificate differ")?.fields.reason, { timeout: 5000 })
      .toBe('node id "grpc-client-2" does not match the client certificate\'s subject CN ("grpc-client-1") (--node-identity cn)');
    expect(h.xds.nodeInfo("grpc-client-2")).toBeUndefined();
  });

  it("gets nothing without the tunnel's certificate: the plaintext client never reaches the xDS server", async () => {
    const client = xdsClient(h.port, "grpc-client-1-direct");
    clients.push(client);
    expect(await failure(who(client))).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(events.some((e) => e.kind === "connect" && e.node.id === "grpc-client-1-direct")).toBe(false);
    expect(h.xds.nodeInfo("grpc-client-1-direct")).toBeUndefined();
  });
});
