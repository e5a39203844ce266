/**
 * The simulator honours the access logs wasmxds serves the way Envoy does
 * (docs/ENVOY.md "Access logs for failure reports"): resources built by the
 * project's builders from YAML, served by the project's XdsServer; a real
 * gRPC AccessLogService on the same port records what the simulated node
 * sends. Only the requests the served filter selects are sent (a trapping
 * filter's 503 wasm_fail_stream, not the 200s), with Envoy's field names and
 * the identifier (node, log_name) on the stream's first message; failed TCP
 * connections arrive as tcp_logs without an upstream cluster; per-listener
 * downstream_rq_<class> counters; another cluster than the control plane's
 * is dropped and counted.
 */
import * as grpc from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { SnapshotCache } from "../../src/cache/snapshot-cache";
import { parseConfig } from "../../src/config/parse";
import type { AccessLogFilter__Output } from "../../src/generated/envoy/config/accesslog/v3/AccessLogFilter";
import type { StreamAccessLogsMessage__Output } from "../../src/generated/envoy/service/accesslog/v3/StreamAccessLogsMessage";
import { clientStreamMethod } from "../../src/health/client-stream";
import { memoryLogger } from "../../src/logger";
import { bindGrpcServer, type BoundGrpcServer, GRPC_SERVER_OPTIONS } from "../../src/net/grpc-server";
import { decodeMessage, encodeMessage } from "../../src/proto/registry";
import { buildResources } from "../../src/resources/build";
import { FakeClock, SimNode } from "../../src/sim";
import { readAccessLogs, evaluateFilter } from "../../src/sim/config/access-log-spec";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { XdsServer } from "../../src/xds/xds-server";
import { waitFor } from "../helpers/wait";
import { httpFailureFilter } from "../../src/resources/access-log";

const MODULES = join(import.meta.dirname, "../fixtures/modules");
const module = (name: string) => {
  const bytes = readFileSync(join(MODULES, `${name}.wasm`));
  return { sha256: sha256Hex(bytes), bytes };
};

const YAML = `
filters:
  - { name: nth, kind: http, module: m/trap_nth_request.wasm, rootId: trap_nth_request, configuration: { crashAfter: 3 } }
  - { name: ntrap, kind: network, module: m/network_trap.wasm, rootId: network_trap }
listeners:
  - { name: web, address: 127.0.0.1:10000, http: { filters: [nth], routes: [{ prefix: /, cluster: backend }] } }
  - { name: raw, address: 127.0.0.1:10001, tcp: { filters: [ntrap], cluster: backend } }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`;

describe("access logs in the simulator", () => {
  let bound: BoundGrpcServer;
  let xds: XdsServer;
  const received: { node: string; logName: string; message: StreamAccessLogsMessage__Output }[] = [];
  const nodes: SimNode[] = [];

  beforeAll(async () => {
    const logger = memoryLogger();
    const cache = new SnapshotCache({ logger });
    const modules = new Map([
      ["nth", module("trap_nth_request")],
      ["ntrap", module("network_trap")],
    ]);
    cache.setDefaultSnapshot(Snapshot.create(buildResources({ config: parseConfig(YAML), modules, moduleServer: { host: "127.0.0.1", port: 1 } })));
    xds = new XdsServer({ cache, logger });
    const server = new grpc.Server(GRPC_SERVER_OPTIONS);
    xds.register(server);
    server.addService(
      { StreamAccessLogs: clientStreamMethod("/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs") },
      {
        StreamAccessLogs: (call: grpc.ServerReadableStream<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
          let node = "";
          let logName = "";
          call.on("data", (b: Buffer) => {
            const message = decodeMessage<StreamAccessLogsMessage__Output>("envoy.service.accesslog.v3.StreamAccessLogsMessage", b);
            node = message.identifier?.node?.id || node;
            logName = message.identifier?.log_name || logName;
            received.push({ node, logName, message });
          });
          call.on("end", () => done(null, encodeMessage("envoy.service.accesslog.v3.StreamAccessLogsResponse", {})));
        },
      },
    );
    bound = await bindGrpcServer(server, "127.0.0.1", 0);
  });

  afterAll(async () => {
    for (const n of nodes) await n.stop();
    xds.closeAllStreams();
    await bound.close(500);
  });

  async function live(id: string, controlPlaneCluster?: string): Promise<SimNode> {
    const node = new SimNode({ id, xdsAddress: `127.0.0.1:${bound.port}`, ...(controlPlaneCluster && { controlPlaneCluster }) });
    nodes.push(node);
    await node.start();
    await waitFor("LIVE", () => node.serverState === "LIVE" && node.listeners().every((l) => l.state === "active"));
    return node;
  }

  it("sends only the failed requests, with Envoy's field names, and counts downstream_rq_<class> per listener", async () => {
    const node = await live("edge-1");
    const statuses = [1, 2, 3, 4].map(() => node.sendHttp({ path: "/x" }, "web")?.status);
    expect(statuses).toEqual([200, 200, 503, 503]);
    expect(node.flushAccessLogs()).toBe(2);
    const batch = await waitFor("the HTTP batch", () => received.find((r) => r.node === "edge-1" && r.message.http_logs));
    expect(batch.message.identifier?.log_name).toBe("wasmxds/web");
    const entries = batch.message.http_logs?.log_entry ?? [];
    expect(entries.map((e) => [e.response?.response_code?.value, e.response?.response_code_details])).toEqual([
      [503, "wasm_fail_stream"],
      [503, "wasm_fail_stream"],
    ]);
    expect(entries[0]?.request).toMatchObject({ request_method: "GET", path: "/x", authority: "sim.local" });
    expect(entries[0]?.common_properties?.downstream_local_address?.socket_address).toMatchObject({ address: "127.0.0.1", port_value: 10000 });
    expect(entries[0]?.common_properties?.access_log_type).toBe("DownstreamEnd");
    expect(node.stats.get("http.web.downstream_rq_2xx")).toBe(2);
    expect(node.stats.get("http.web.downstream_rq_5xx")).toBe(2);
    expect(node.stats.get("http.web.downstream_rq_completed")).toBe(4);
    expect(node.stats.get("access_logs.grpc_access_log.logs_written")).toBe(2);
  });

  it("sends a connection a network filter failed as a tcp_logs entry with no upstream cluster", async () => {
    const node = await live("edge-2");
    expect(node.openTcp({}, "raw")?.closed).toBe("wasm_fail_stream");
    node.flushAccessLogs();
    const batch = await waitFor("the TCP batch", () => received.find((r) => r.node === "edge-2" && r.message.tcp_logs));
    expect(batch.logName).toBe("wasmxds/raw");
    const entry = batch.message.tcp_logs?.log_entry[0];
    expect(entry?.common_properties?.upstream_cluster).toBe("");
    expect(entry?.common_properties?.access_log_type).toBe("TcpConnectionEnd");
    expect(entry?.connection_properties).toMatchObject({ received_bytes: "5", sent_bytes: "0" });
    expect(node.stats.get("tcp.raw.downstream_cx_total")).toBe(1);
    expect(node.stats.get("cluster.backend.upstream_cx_total")).toBeUndefined();
  });

  it("drops and counts entries for a cluster that is not the control plane's", async () => {
    const node = await live("edge-3", "control");
    node.sendHttp({}, "web");
    node.sendHttp({}, "web");
    node.sendHttp({}, "web");
    expect(node.flushAccessLogs()).toBe(0);
    expect(node.stats.get("access_logs.grpc_access_log.logs_dropped")).toBe(1);
  });

  it("spreads synthetic traffic over HTTP and TCP listeners alike (regression: sending by name took a second turn, so with one of each every tick hit the same listener)", async () => {
    const clock = new FakeClock();
    const node = new SimNode({ id: "edge-4", xdsAddress: `127.0.0.1:${bound.port}`, clock, random: () => 0, traffic: { rps: 10 } });
    nodes.push(node);
    await node.start();
    await waitFor("LIVE", () => node.serverState === "LIVE" && node.listeners().every((l) => l.state === "active"));
    await clock.advance(1000);
    const http = node.stats.get("http.web.downstream_rq_total") ?? 0;
    const tcp = node.stats.get("tcp.raw.downstream_cx_total") ?? 0;
    // Phase 0: ticks at 0, 100, ..., 1000 ms.
    expect(http + tcp).toBe(11);
    expect(Math.abs(http - tcp)).toBeLessThanOrEqual(1);
  });

  it("evaluates the served filter: 5xx and local-reply flags pass, a 403 or 404 without a flag does not", () => {
    const config = { common_config: { log_name: "l", grpc_service: { envoy_grpc: { cluster_name: "xds_cluster" } } } };
    const typed_config = {
      type_url: "type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig",
      value: encodeMessage("envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig", config),
    };
    const [spec] = readAccessLogs([{ name: "x", filter: decodeFilter(), typed_config, config_type: "typed_config" }]);
    const filter = spec?.filter ?? null;
    const pass = (status: number, flags: string[] = []) => evaluateFilter(filter, { status, flags }, () => 0.5);
    expect(pass(503)).toBe(true);
    expect(pass(500, ["NFCF"])).toBe(true);
    expect(pass(404, ["NR"])).toBe(true);
    expect(pass(408, ["SI"])).toBe(true);
    expect(pass(403)).toBe(false);
    expect(pass(404)).toBe(false);
    expect(pass(200)).toBe(false);
    expect(pass(429, ["RL"])).toBe(false);
  });
});

/** The served HTTP filter, through its encoded bytes, as a node decodes it. */
function decodeFilter(): AccessLogFilter__Output {
  const bytes = encodeMessage("envoy.config.accesslog.v3.AccessLogFilter", httpFailureFilter());
  return decodeMessage<AccessLogFilter__Output>("envoy.config.accesslog.v3.AccessLogFilter", bytes);
}
