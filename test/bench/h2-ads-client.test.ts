/**
 * The fan-out benchmark's raw HTTP/2 client (`--client h2`,
 * bench/fanout/h2-channel.ts) against an independent ADS server on grpc-js
 * (test/helpers/raw-ads-server.ts): it must say on the wire exactly what the
 * grpc-js client says (same requests in the same order: node on the first,
 * CDS, EDS, LDS, ECDS and RDS subscriptions, ACKs with version and nonce,
 * NACKs with the kept version, the nonce and code 13), cope with messages
 * that span many HTTP/2 DATA frames, read the gRPC status from the trailers,
 * and reconnect after the server ends the stream.
 */
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type CallStatus, H2Channel, MAX_MESSAGE_BYTES } from "../../bench/fanout/h2-channel";
import { type ClientTransport, XdsOnlyNode } from "../../bench/fanout/xds-node";
import { ADS_PATH } from "../../src/sim/xds/xds-client";
import { RawAdsServer, type Recorded } from "../helpers/raw-ads-server";
import { assignment, ecds, edsCluster, httpListener, moduleBytes, routeConfig, staticCluster, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;

interface Seen {
  acks: string[];
  nacks: string[];
}

/** A request as the server saw it, without what differs between runs (nonces are numbered per server). */
function shape(r: Recorded): string {
  const q = r.req;
  return [r.stream, q.type_url.split(".").at(-1), q.version_info, q.resource_names.join(","), q.response_nonce ? "nonce" : "-", q.node ? `node:${q.node.id}` : "-", q.error_detail ? `nack:${q.error_detail.code}` : ""].join(" ");
}

async function fleetOf(transport: ClientTransport, serve: (s: RawAdsServer) => void) {
  const server = await RawAdsServer.start();
  serve(server);
  const seen: Seen = { acks: [], nacks: [] };
  const node = new XdsOnlyNode(
    "n1",
    server.address,
    { onAck: (t, v) => seen.acks.push(`${t.split(".").at(-1)}@${v}`), onNack: (t) => seen.nacks.push(t), onResponse: () => {} },
    "sotw",
    transport,
  );
  return { server, node, seen };
}

const listener = () => httpListener("ingress", 10000, [{ ecds: "f1" }]);
const filter = (bytes: Buffer) => ecds("f1", wasmAny("http", { plugin: "f1@a", rootId: "", code: { inline: bytes } }));

function serveAll(s: RawAdsServer): void {
  s.set(T.cluster, "c1", [edsCluster("backend")]);
  s.set(T.endpoint, "e1", [assignment("backend", 8080)]);
  s.set(T.listener, "l1", [listener()]);
  s.set(T.route, "r1", [routeConfig("ingress", "backend")]);
  s.set(T.extensionConfig, "x1", [filter(moduleBytes("good_http"))]);
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function run(transport: ClientTransport, serve: (s: RawAdsServer) => void, until: (f: { server: RawAdsServer; seen: Seen }) => boolean) {
  const f = await fleetOf(transport, serve);
  cleanup.push(() => f.server.close(), () => f.node.stop());
  f.node.start();
  await waitFor(`${transport} client done`, () => until(f));
  return f;
}

describe("the fan-out benchmark's raw HTTP/2 ADS client", () => {
  it("sends the grpc-js client's requests, in the same order: subscriptions like Envoy, ACKs with version and nonce", async () => {
    const done = (f: { seen: Seen }) => f.seen.acks.length === 5;
    const grpc = await run("grpc", serveAll, done);
    const h2 = await run("h2", serveAll, done);
    const wire = (s: RawAdsServer) => s.requests.map(shape);
    expect(wire(h2.server)).toEqual(wire(grpc.server));
    expect(wire(h2.server)).toEqual([
      "1 Cluster   - node:n1 ",
      "1 ClusterLoadAssignment  backend - - ",
      "1 Cluster c1  nonce - ",
      "1 Listener   - - ",
      "1 ClusterLoadAssignment e1 backend nonce - ",
      "1 TypedExtensionConfig  f1 - - ",
      "1 RouteConfiguration  ingress - - ",
      "1 Listener l1  nonce - ",
      "1 TypedExtensionConfig x1 f1 nonce - ",
      "1 RouteConfiguration r1 ingress nonce - ",
    ]);
    expect(h2.seen.acks.sort()).toEqual(["Cluster@c1", "ClusterLoadAssignment@e1", "Listener@l1", "RouteConfiguration@r1", "TypedExtensionConfig@x1"]);
    // Each ACK names the nonce of the response it answers.
    const nonces = h2.server.requests.filter((r) => r.req.response_nonce).map((r) => r.req.response_nonce);
    expect(new Set(nonces).size).toBe(nonces.length);
  });

  it("NACKs a response it cannot apply as the grpc-js client does: the kept version, the nonce, code 13", async () => {
    const serve = (s: RawAdsServer) => {
      s.set(T.cluster, "c1", [staticCluster("backend", 8080)]);
      s.set(T.listener, "l1", [listener()]);
    };
    const nacked = async (transport: ClientTransport) => {
      const f = await run(transport, serve, (x) => x.seen.acks.includes("Listener@l1"));
      // Cluster bytes that do not decode: the node's apply throws, the client NACKs.
      const nonce = f.server.respond(T.cluster, "c2", [{ type_url: T.cluster, value: Buffer.from([0xff, 0xff, 0xff]) }]);
      const nack = await f.server.next((r) => r.req.response_nonce === nonce);
      return { nack: nack.req, seen: f.seen };
    };
    const grpc = await nacked("grpc");
    const h2 = await nacked("h2");
    expect(h2.nack.version_info).toBe("c1");
    expect(h2.nack.error_detail?.code).toBe(13);
    expect(h2.nack.error_detail?.message).toBe(grpc.nack.error_detail?.message);
    expect(h2.seen.nacks).toEqual([T.cluster]);
  });

  it("takes a message spread over many HTTP/2 DATA frames (a 1 MB module inline)", async () => {
    const big = Buffer.concat([moduleBytes("good_http"), Buffer.alloc(1 << 20, 7)]);
    const f = await run(
      "h2",
      (s) => {
        serveAll(s);
        s.set(T.extensionConfig, "x-big", [filter(big)]);
      },
      (x) => x.seen.acks.includes("TypedExtensionConfig@x-big"),
    );
    expect(f.seen.nacks).toEqual([]);
  });

  it("reads the gRPC status from the trailers, and the node reconnects with its node and versions", async () => {
    const f = await run("h2", serveAll, (x) => x.seen.acks.length === 5);
    f.server.dropStreams();
    const again = await f.server.next((r) => r.stream === 2);
    expect(again.req.node?.id).toBe("n1");
    expect(again.req.type_url).toBe(T.cluster);
    expect(again.req.version_info).toBe("c1");
    expect(again.req.response_nonce).toBe("");
  });

  it("splits messages at frame boundaries whatever the DATA chunks, and reports the trailers' status", async () => {
    const frame = (text: string) => {
      const body = Buffer.from(text);
      const f = Buffer.alloc(5 + body.length);
      f.writeUInt32BE(body.length, 1);
      body.copy(f, 5);
      return f;
    };
    const { port, close } = await rawServer(async (stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      // Two frames in one chunk, then one frame a byte at a time.
      stream.write(Buffer.concat([frame("one"), frame("")]));
      for (const b of frame("three")) {
        stream.write(Buffer.from([b]));
        await new Promise((r) => setImmediate(r));
      }
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "5", "grpc-message": "not%20found" }));
      stream.end();
    });
    cleanup.push(close);
    const { messages, status } = await callOnce(port);
    expect(messages.map((m) => m.toString())).toEqual(["one", "", "three"]);
    expect(await status).toEqual({ code: 5, details: "not found" });
  });

  it("ends the call with RESOURCE_EXHAUSTED when a length prefix is over the limit, without buffering it", async () => {
    const { port, close } = await rawServer((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      const header = Buffer.alloc(5);
      header.writeUInt32BE(MAX_MESSAGE_BYTES + 1, 1);
      stream.write(header);
    });
    cleanup.push(close);
    const { messages, status } = await callOnce(port);
    expect((await status).code).toBe(8);
    expect(messages).toEqual([]);
  });
});

async function rawServer(onStream: (s: http2.ServerHttp2Stream) => void | Promise<void>): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => sessions.add(s));
  server.on("stream", (s) => {
    s.on("error", () => {});
    Promise.resolve(onStream(s)).catch(() => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}

async function callOnce(port: number): Promise<{ messages: Buffer[]; status: Promise<CallStatus> }> {
  const channel = new H2Channel(`127.0.0.1:${port}`);
  cleanup.push(() => channel.close());
  const call = channel.makeBidiStreamRequest(ADS_PATH);
  const messages: Buffer[] = [];
  call.on("data", (m: Buffer) => messages.push(m));
  const status = new Promise<CallStatus>((r) => call.on("status", r));
  await status;
  return { messages, status };
}
