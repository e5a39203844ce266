/**
 * The access log stream is bounded (issue 14): one client sending 100,000
 * entries a second neither grows the ingest's memory without bound nor
 * delays another node's stream. Real gRPC on 127.0.0.1 port 0: the flood is
 * one pre-encoded 1,000-entry message written 100 times a second; the other
 * node sends one wasm_fail_stream entry every 100 ms and its signals are
 * timed. Past the entry budget a message is only sampled; past the byte
 * budget (checked before decoding) messages are dropped undecoded, so the flood's
 * messages past it cost no decoding.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessLogIngest } from "../../src/health/access-log-service";
import { clientStreamMethod } from "../../src/health/client-stream";
import { SignalHub } from "../../src/health/signal";
import { bindGrpcServer, type BoundGrpcServer, GRPC_SERVER_OPTIONS } from "../../src/net/grpc-server";
import { encodeMessage } from "../../src/proto/registry";

const PATH = "/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs";
const MESSAGE = "envoy.service.accesslog.v3.StreamAccessLogsMessage";

const entry = (status: number, details: string) => ({ response: { response_code: { value: status }, response_code_details: details }, request: { path: "/flood" } });

function open(client: grpc.Client): grpc.ClientWritableStream<Buffer> {
  const method = clientStreamMethod(PATH);
  return client.makeClientStreamRequest<Buffer, Buffer>(method.path, method.requestSerialize, method.responseDeserialize, () => {});
}

describe("access log flood", () => {
  let bound: BoundGrpcServer;
  let ingest: AccessLogIngest;
  const hub = new SignalHub();

  beforeAll(async () => {
    ingest = new AccessLogIngest({ hub });
    const server = new grpc.Server(GRPC_SERVER_OPTIONS);
    ingest.register(server);
    bound = await bindGrpcServer(server, "127.0.0.1", 0);
  });

  afterAll(async () => {
    ingest.closeAll();
    await bound.close(500);
  });

  it("reads at most the per-node budgets from a 100,000 entries/s client and answers another node's failures within 250 ms", async () => {
    const target = `127.0.0.1:${bound.port}`;
    const options = { "grpc.use_local_subchannel_pool": 1 };
    const floodClient = new grpc.Client(target, grpc.credentials.createInsecure(), options);
    const otherClient = new grpc.Client(target, grpc.credentials.createInsecure(), options);
    const batch = Array.from({ length: 1000 }, () => entry(503, "via_upstream"));
    const first = encodeMessage(MESSAGE, { identifier: { node: { id: "flood" }, log_name: "wasmxds/web" }, http_logs: { log_entry: batch } });
    const next = encodeMessage(MESSAGE, { http_logs: { log_entry: batch } });
    const flood = open(floodClient);
    flood.write(first);
    const other = open(otherClient);
    other.write(encodeMessage(MESSAGE, { identifier: { node: { id: "calm" }, log_name: "wasmxds/web" }, http_logs: { log_entry: [] } }));

    const sentAt: number[] = [];
    const latencies: number[] = [];
    hub.on((s) => {
      if (s.nodeId === "calm") latencies.push(Date.now() - (sentAt[latencies.length] ?? Date.now()));
    });
    const heapBefore = process.memoryUsage().heapUsed;
    const seconds = 3;
    let written = 0;
    const floodTimer = setInterval(() => {
      // 10 messages every 100 ms: 100,000 entries a second.
      for (let i = 0; i < 10; i++) flood.write(next);
      written += 10;
    }, 100);
    const otherTimer = setInterval(() => {
      sentAt.push(Date.now());
      other.write(encodeMessage(MESSAGE, { http_logs: { log_entry: [entry(503, "wasm_fail_stream")] } }));
    }, 100);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(floodTimer);
    clearInterval(otherTimer);
    await new Promise((r) => setTimeout(r, 300));
    const heapAfter = process.memoryUsage().heapUsed;
    flood.end();
    other.end();
    floodClient.close();
    otherClient.close();

    const stats = ingest.stats();
    expect(written).toBeGreaterThanOrEqual(250);
    // The flood's entries read are bounded by the per-node entry budget (20,000 a second) plus the calm node's.
    expect(stats.httpEntries).toBeLessThanOrEqual(20_000 * (seconds + 1) + 100);
    expect(stats.entriesSkipped).toBeGreaterThan(100_000);
    // Every calm failure was signalled, none waited behind the flood.
    expect(latencies.length).toBeGreaterThanOrEqual(sentAt.length - 1);
    expect(Math.max(...latencies)).toBeLessThan(250);
    expect(heapAfter - heapBefore).toBeLessThan(64 * 1024 * 1024);
  }, 20_000);
});
