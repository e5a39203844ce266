/**
 * Failure reports wired into every listener (docs/HEALTH.md "Failure
 * reports"): the HTTP connection manager carries an http_grpc access log
 * filtered to failed requests, the TCP listener a tcp_grpc access log, both
 * to the control-plane cluster with log_name wasmxds/<listener>; the cluster
 * name follows server.controlPlaneCluster and server.failureReports: off
 * leaves both out. Asserted on the decoded bytes Envoy would receive.
 */
import { describe, expect, it } from "vitest";
import type { AccessLog__Output } from "../../src/generated/envoy/config/accesslog/v3/AccessLog";
import type { HttpGrpcAccessLogConfig__Output } from "../../src/generated/envoy/extensions/access_loggers/grpc/v3/HttpGrpcAccessLogConfig";
import type { TcpGrpcAccessLogConfig__Output } from "../../src/generated/envoy/extensions/access_loggers/grpc/v3/TcpGrpcAccessLogConfig";
import type { HttpConnectionManager__Output } from "../../src/generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager";
import { unpackAny } from "../../src/proto/registry";
import { EXTENSION_TYPE_URLS } from "../../src/vocabulary/type-urls";
import { decodeYaml, fakeModule, must } from "../helpers/decoded";

const modules = new Map([
  ["h", fakeModule("h")],
  ["n", fakeModule("n")],
]);

const yaml = (server: string) => `
${server}
filters:
  - { name: h, kind: http, module: m/h.wasm, rootId: h }
  - { name: n, kind: network, module: m/n.wasm, rootId: n }
listeners:
  - { name: web, address: 127.0.0.1:10000, http: { filters: [h], routes: [{ prefix: /, cluster: backend }] } }
  - { name: raw, address: 127.0.0.1:10001, tcp: { filters: [n], cluster: backend } }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`;

function hcmOf(yamlText: string): HttpConnectionManager__Output {
  const d = decodeYaml(yamlText, modules);
  const filters = must(d.listeners.get("web")).filter_chains[0]?.filters ?? [];
  const hcm = must(filters.find((f) => f.typed_config?.type_url === EXTENSION_TYPE_URLS.httpConnectionManager));
  return unpackAny<HttpConnectionManager__Output>(must(hcm.typed_config));
}

function tcpLogsOf(yamlText: string): AccessLog__Output[] {
  return must(decodeYaml(yamlText, modules).listeners.get("raw")).access_log;
}

describe("failure reports in the served listeners", () => {
  it("gives an HTTP listener an http_grpc access log of failed requests to xds_cluster, named after the listener", () => {
    const logs = hcmOf(yaml("")).access_log;
    expect(logs).toHaveLength(1);
    const log = must(logs[0]);
    expect(log.name).toBe("envoy.access_loggers.http_grpc");
    const config = unpackAny<HttpGrpcAccessLogConfig__Output>(must(log.typed_config));
    expect(log.typed_config?.type_url).toBe("type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig");
    expect(config.common_config).toMatchObject({ log_name: "wasmxds/web", transport_api_version: "V3", grpc_service: { envoy_grpc: { cluster_name: "xds_cluster" } } });
    // status >= 500 OR a local-reply response flag.
    const or = must(log.filter?.or_filter).filters;
    expect(or).toHaveLength(2);
    expect(or[0]?.status_code_filter?.comparison).toMatchObject({ op: "GE", value: { default_value: 500, runtime_key: "wasmxds.failure_reports.min_status" } });
    expect(or[1]?.response_flag_filter?.flags).toEqual(["NR", "SI", "DT", "LR", "IH", "DPE", "NFCF"]);
  });

  it("gives a TCP listener a tcp_grpc access log on the listener, sampled at 100% by a runtime key", () => {
    const logs = tcpLogsOf(yaml(""));
    expect(logs).toHaveLength(1);
    const log = must(logs[0]);
    expect(log.name).toBe("envoy.access_loggers.tcp_grpc");
    const config = unpackAny<TcpGrpcAccessLogConfig__Output>(must(log.typed_config));
    expect(config.common_config).toMatchObject({ log_name: "wasmxds/raw", grpc_service: { envoy_grpc: { cluster_name: "xds_cluster" } } });
    expect(log.filter?.runtime_filter).toMatchObject({ runtime_key: "wasmxds.failure_reports.tcp_percent", percent_sampled: { numerator: 100, denominator: "HUNDRED" } });
  });

  it("uses server.controlPlaneCluster", () => {
    const server = "server: { controlPlaneCluster: control }";
    const http = unpackAny<HttpGrpcAccessLogConfig__Output>(must(hcmOf(yaml(server)).access_log[0]?.typed_config));
    expect(http.common_config?.grpc_service?.envoy_grpc?.cluster_name).toBe("control");
    const tcp = unpackAny<TcpGrpcAccessLogConfig__Output>(must(tcpLogsOf(yaml(server))[0]?.typed_config));
    expect(tcp.common_config?.grpc_service?.envoy_grpc?.cluster_name).toBe("control");
  });

  it("leaves both out with server.failureReports: off (written off or false)", () => {
    for (const server of ["server: { failureReports: off }", "server: { failureReports: false }", 'server: { failureReports: "off" }']) {
      expect(hcmOf(yaml(server)).access_log).toEqual([]);
      expect(tcpLogsOf(yaml(server))).toEqual([]);
    }
  });
});
