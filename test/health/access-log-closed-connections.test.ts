/**
 * AccessLogIngest and TCP connections a wasm filter ended, on a listener
 * wasmxds wired (log_name wasmxds/<listener>): one closed on purpose by the
 * filter (proxy_close_stream: termination details wasm_downstream_close, as
 * the simulator's close_ratio connections carry them) raises no crash
 * signal; one a failed filter closed (no upstream, flag or details) is a
 * wasm_fail_connection signal; both are failed connections of the listener
 * for canary analysis (the closedConnections sink); one that reached
 * upstream is neither.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_LOG_SERVICE_PATH } from "../../src/health/access-log-service";
import { type IngestHarness, openRawStream, settle, startIngestHarness } from "../helpers/ingest-harness";

const MESSAGE = "envoy.service.accesslog.v3.StreamAccessLogsMessage";
const common = (o: Record<string, unknown>) => ({ common_properties: { access_log_type: "TcpConnectionEnd", ...o } });

describe("access log service: connections closed by a network filter", () => {
  let h: IngestHarness;
  const closed: Array<{ nodeId: string; listener: string; failed: number }> = [];

  beforeAll(async () => {
    h = await startIngestHarness({ closedConnections: (nodeId, listener, failed) => closed.push({ nodeId, listener, failed }) });
  });

  afterAll(async () => {
    await h.close();
  });

  it("counts deliberate closes as failed connections of the listener without a crash signal, and failed ones as both", async () => {
    const s = openRawStream(h.address, ACCESS_LOG_SERVICE_PATH, MESSAGE);
    const deliberate = common({ connection_termination_details: "wasm_downstream_close" });
    s.write({ identifier: { node: { id: "tcp-1" }, log_name: "wasmxds/raw" }, tcp_logs: { log_entry: [deliberate, deliberate, common({ upstream_cluster: "backend" })] } });
    s.write({ tcp_logs: { log_entry: [common({}), deliberate] } });
    s.end();
    expect(await s.done).toEqual({ code: grpc.status.OK, details: "" });
    await settle();
    expect(closed).toEqual([
      { nodeId: "tcp-1", listener: "raw", failed: 2 },
      { nodeId: "tcp-1", listener: "raw", failed: 2 },
    ]);
    expect(h.signals.map((sig) => ({ kind: sig.kind, count: sig.count, listener: sig.listener }))).toEqual([{ kind: "wasm_fail_connection", count: 1, listener: "raw" }]);
    expect(h.accessLogs.stats()).toMatchObject({ tcpEntries: 5, failConnectionEntries: 1, filterCloseEntries: 3, signals: 1 });
  });
});
