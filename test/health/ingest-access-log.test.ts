/**
 * AccessLogIngest: StreamAccessLogs batches built from what a simulated
 * Envoy answered while a real module crashed (trap_nth_request
 * {"crashAfter":3}, FAIL_CLOSED: 503 wasm_fail_stream from the 3rd request
 * on), sent as Envoy's gRPC access logger does (node and log_name on the
 * first message only), plus bad streams from raw clients.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_LOG_SERVICE_PATH } from "../../src/health/access-log-service";
import { FakeClock, type HttpOutcome, SimNode } from "../../src/sim";
import { waitFor } from "../helpers/wait";
import { type IngestHarness, openRawStream, settle, startIngestHarness, wasmSnapshot } from "../helpers/ingest-harness";

const MESSAGE = "envoy.service.accesslog.v3.StreamAccessLogsMessage";
const open = (h: IngestHarness) => openRawStream(h.address, ACCESS_LOG_SERVICE_PATH, MESSAGE);
const entry = (o: Pick<HttpOutcome, "status" | "details">) => ({
  request: { request_method: "GET", path: "/" },
  response: { response_code: { value: o.status }, response_code_details: o.details },
});
const tcpEntry = { common_properties: { downstream_remote_address: { socket_address: { address: "10.0.0.1", port_value: 4000 } } } };

describe("access log service", () => {
  let h: IngestHarness;
  let node: SimNode;

  beforeAll(async () => {
    h = await startIngestHarness({ accessLogLimits: { maxEntriesPerMessage: 10 } });
    h.cache.setSnapshot("als-1", wasmSnapshot("f1@0123abcd", "trap_nth_request", { configuration: '{"crashAfter":3}', failurePolicy: "FAIL_CLOSED" }));
    node = new SimNode({ id: "als-1", xdsAddress: h.address, clock: new FakeClock(), random: () => 0 });
    await node.start();
    await waitFor("LIVE", () => node.serverState === "LIVE", 20_000);
  });

  afterAll(async () => {
    await node.stop();
    await h.close();
  });

  it("counts the requests a failed filter answered (wasm_fail_stream) per batch, for the stream's node", async () => {
    const outcomes = Array.from({ length: 6 }, () => node.sendHttp({}, "ingress") as HttpOutcome);
    expect(outcomes.map((o) => `${o.status} ${o.details}`)).toEqual(["200 via_upstream", "200 via_upstream", ...Array(4).fill("503 wasm_fail_stream")]);
    const s = open(h);
    s.write({ identifier: { node: { id: node.id, cluster: "edge" }, log_name: "wasm" }, http_logs: { log_entry: outcomes.map(entry) } });
    s.write({ tcp_logs: { log_entry: [tcpEntry, tcpEntry] } });
    s.write({ http_logs: { log_entry: [entry({ status: 200, details: "via_upstream" })] } });
    s.write({ http_logs: { log_entry: [entry({ status: 503, details: "wasm_fail_stream" }), entry({ status: 503, details: "upstream_reset_before_response_started{connection_failure}" })] } });
    s.end();
    expect(await s.done).toEqual({ code: grpc.status.OK, details: "" });
    await settle();
    expect(h.signals.map(({ at, ...rest }) => rest)).toEqual([
      { nodeId: "als-1", kind: "wasm_fail_stream", count: 4, evidence: "4 of 6 requests answered with response_code_details wasm_fail_stream (access log wasm)", source: "access-log" },
      { nodeId: "als-1", kind: "wasm_fail_stream", count: 1, evidence: "1 of 2 requests answered with response_code_details wasm_fail_stream (access log wasm)", source: "access-log" },
    ]);
    expect(h.accessLogs.stats()).toMatchObject({ streamsAccepted: 1, messagesAccepted: 4, httpEntries: 9, tcpEntries: 2, failStreamEntries: 5, signals: 2 });
  });

  it("rejects a stream without node, with garbage bytes or with too many entries, and no other stream notices", async () => {
    const before = h.signals.length;
    const good = open(h);
    good.write({ identifier: { node: { id: "als-2" }, log_name: "wasm" }, http_logs: { log_entry: [entry({ status: 200, details: "via_upstream" })] } });
    const noNode = open(h);
    noNode.write({ http_logs: { log_entry: [entry({ status: 503, details: "wasm_fail_stream" })] } });
    const garbage = open(h);
    garbage.writeBytes(Buffer.from([0x12, 0x7f]));
    const huge = open(h);
    huge.write({ identifier: { node: { id: "als-3" } }, http_logs: { log_entry: Array(11).fill(entry({ status: 503, details: "wasm_fail_stream" })) } });
    expect(await noNode.done).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: "the first StreamAccessLogsMessage of a stream must carry identifier.node with a non-empty id" });
    expect(await garbage.done).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^not a valid StreamAccessLogsMessage: /) });
    expect(await huge.done).toEqual({ code: grpc.status.RESOURCE_EXHAUSTED, details: "11 access log entries in one message, over the limit of 10" });
    good.write({ http_logs: { log_entry: [entry({ status: 503, details: "wasm_fail_stream" })] } });
    good.end();
    expect((await good.done).code).toBe(grpc.status.OK);
    await settle();
    expect(h.signals.slice(before).map((s) => [s.nodeId, s.count])).toEqual([["als-2", 1]]);
    expect(h.accessLogs.stats()).toMatchObject({ streamsRejected: 3, streamsActive: 0 });
  });
});
