/**
 * The xDS port as an attacker sees it (issue 11, "think like an attacker"):
 * oversized messages, a huge node id or version, requests before the node,
 * binary garbage, too many streams on one connection. Each ends only the
 * offending stream, with a status that says why, and an honest client on
 * the same server keeps being served.
 */
import * as http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { MAX_STREAMS_PER_CONNECTION } from "../../src/net/grpc-server";
import { encodeMessage } from "../../src/proto/registry";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { basicInput } from "../helpers/snapshots";
import { type Harness, startHarness } from "../helpers/xds-harness";

const ECDS = TYPE_URLS.extensionConfig;
const ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
let h: Harness;
const clients: AdsClient[] = [];
const connect = (id: string) => {
  const c = new AdsClient(h.port, { id });
  clients.push(c);
  return c;
};
beforeEach(async () => {
  h = await startHarness();
  h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.cancel();
  await h.close();
});

async function honestStillServed(): Promise<void> {
  const c = connect(`honest-${Math.random()}`);
  c.request({ typeUrl: ECDS, names: ["f1"] });
  expect((await c.next(ECDS)).resources).toHaveLength(1);
}

/** Writes raw bytes as one gRPC message on a raw HTTP/2 stream and resolves with grpc-status and grpc-message. */
function rawCall(port: number, message: Buffer): Promise<{ status: string; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const req = session.request({ ":method": "POST", ":path": ADS_PATH, "content-type": "application/grpc", te: "trailers" });
    req.on("error", (err) => resolve({ status: "reset", message: err.message }));
    let headers: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => {
      headers = h;
    });
    req.on("trailers", (t) => {
      resolve({ status: String(t["grpc-status"]), message: decodeURIComponent(String(t["grpc-message"] ?? "")) });
      session.close();
    });
    req.on("end", () => {
      if (headers["grpc-status"] !== undefined) resolve({ status: String(headers["grpc-status"]), message: decodeURIComponent(String(headers["grpc-message"] ?? "")) });
      session.close();
    });
    req.resume();
    const header = Buffer.alloc(5);
    header.writeUInt32BE(message.length, 1);
    req.end(Buffer.concat([header, message]));
  });
}

describe("hostile xDS peers", () => {
  it("a node id of 100,000 characters is refused with INVALID_ARGUMENT naming the limit", async () => {
    const c = connect("n".repeat(100_000));
    c.request({ typeUrl: ECDS, names: ["f1"] });
    const status = await c.ended;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toBe("node.id is 100000 characters long, the limit is 2048");
    expect(h.xds.streamStatuses()).toHaveLength(0);
    await honestStillServed();
  });

  it("node metadata over 64 KiB is refused", async () => {
    const c = new AdsClient(h.port, { id: "fat", metadata: { blob: "m".repeat(70_000) } });
    clients.push(c);
    c.request({ typeUrl: ECDS, names: ["f1"] });
    expect((await c.ended).details).toMatch(/^node.metadata is \d+ characters of JSON, the limit is 65536$/);
  });

  it("a version_info or nonce longer than 1024 characters is refused", async () => {
    const c = connect("long-version");
    c.request({ typeUrl: ECDS, names: ["f1"], versionInfo: "v".repeat(5000) });
    expect(await c.ended).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: `${ECDS}: version_info is 5000 characters long, the limit is 1024` });
  });

  it("a request before the node is refused", async () => {
    const c = connect("anonymous");
    c.request({ typeUrl: ECDS, names: ["f1"], node: null });
    expect(await c.ended).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/first DiscoveryRequest on a stream must carry node/) });
  });

  it("binary garbage ends that stream with a status, and the server keeps serving", async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    const r = await rawCall(h.port, garbage);
    expect(r.status).not.toBe("0");
    expect(r.message.length).toBeGreaterThan(0);
    await honestStillServed();
  });

  it("a message over the 16 MiB receive limit is refused with RESOURCE_EXHAUSTED before it is decoded", async () => {
    const client = new grpc.Client(`127.0.0.1:${h.port}`, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
    try {
      const call = client.makeBidiStreamRequest(ADS_PATH, (b: Buffer) => b, (b: Buffer) => b);
      call.on("error", () => {});
      const status = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
      call.write(Buffer.alloc(17 * 1024 * 1024, 0x0a));
      expect((await status).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    } finally {
      client.close();
    }
    await honestStillServed();
  }, 30_000);

  it(`opens at most ${MAX_STREAMS_PER_CONNECTION} streams of one connection at a time`, async () => {
    // A connection of its own (grpc-js otherwise shares one between clients of a process).
    const client = new grpc.Client(`127.0.0.1:${h.port}`, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
    try {
      for (let i = 0; i < MAX_STREAMS_PER_CONNECTION + 50; i++) {
        const call = client.makeBidiStreamRequest(ADS_PATH, (b: Buffer) => b, (b: Buffer) => b);
        call.on("error", () => {});
        call.on("data", () => {});
        call.write(encodeMessage("envoy.service.discovery.v3.DiscoveryRequest", { node: { id: `many-${i}` }, type_url: ECDS, resource_names: ["f1"] }));
      }
      await expect.poll(() => h.xds.streamStatuses().length).toBe(MAX_STREAMS_PER_CONNECTION);
      await new Promise((r) => setTimeout(r, 300));
      expect(h.xds.streamStatuses().length).toBe(MAX_STREAMS_PER_CONNECTION);
      await honestStillServed();
    } finally {
      client.close();
    }
  }, 30_000);
});
