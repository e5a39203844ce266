/**
 * Failure reports: the gRPC access logs wasmxds wires into every listener it
 * generates, so Envoy tells it about failed requests and connections with no
 * hand edits (docs/HEALTH.md "Failure reports", docs/ENVOY.md "Access logs
 * for failure reports"). They stream to envoy.service.accesslog.v3.AccessLogService
 * on the xDS port through the bootstrap's control-plane cluster
 * (`server.controlPlaneCluster`, default xds_cluster); `server.failureReports: off`
 * leaves them out.
 *
 * - HTTP: `envoy.access_loggers.http_grpc` in the HttpConnectionManager,
 *   filtered so only failed requests are sent: status >= 500 (a failed wasm
 *   filter answers 503 `wasm_fail_stream`) or a response flag Envoy sets when
 *   it answered or ended the stream itself (FAILURE_FLAGS).
 * - TCP: `envoy.access_loggers.tcp_grpc` on the listener, one entry per
 *   connection at its end. Envoy records nothing specific when a network wasm
 *   filter fails a connection (no response flag, no termination details), so
 *   no filter can select those connections: the ingest reads them out of the
 *   entries (src/health/access-log-service.ts). A runtime sampling filter
 *   lets an operator thin them out in Envoy's runtime without a config change.
 *
 * log_name is `wasmxds/<listener>`: it rides on each stream's first message,
 * and Envoy keeps one stream per distinct logger config, so the ingest knows
 * the listener of every entry and, through it, the filter versions it runs.
 */
import { DEFAULT_CONTROL_PLANE_CLUSTER, type ServerConfig } from "../config/model";
import type { AccessLog } from "../generated/envoy/config/accesslog/v3/AccessLog";
import type { AccessLogFilter } from "../generated/envoy/config/accesslog/v3/AccessLogFilter";
import type { CommonGrpcAccessLogConfig } from "../generated/envoy/extensions/access_loggers/grpc/v3/CommonGrpcAccessLogConfig";
import { ACCESS_LOG_LOG_NAME_PREFIX, EXTENSION_TYPE_URLS } from "../vocabulary/type-urls";
import { anyOf } from "./any";

/**
 * Response flags Envoy sets when it answered or ended a stream itself for a
 * reason a filter can cause, with a status that may be below 500: NR no route
 * (a filter rewrote the path or host), SI stream idle timeout (a filter that
 * stopped iteration and never resumed), DT max stream duration, LR local
 * reset, IH invalid Envoy request headers, DPE downstream protocol error,
 * NFCF no filter config found (an ECDS filter whose config never arrived).
 * Client-side ends (DC, DR) and deliberate answers of other filters (RL,
 * UAEX, FI) are left out. Names from ResponseFlagFilter's allowed list
 * (api/envoy/config/accesslog/v3/accesslog.proto).
 */
export const FAILURE_FLAGS: readonly string[] = Object.freeze(["NR", "SI", "DT", "LR", "IH", "DPE", "NFCF"]);

/** Requests with a status at or above this are failures. */
export const FAILURE_STATUS = 500;

/** Envoy runtime keys an operator can set to change the filters without a new config. */
export const RUNTIME_KEYS = Object.freeze({
  minStatus: "wasmxds.failure_reports.min_status",
  tcpPercent: "wasmxds.failure_reports.tcp_percent",
});

export interface FailureReports {
  readonly cluster: string;
}

/** The failure reports to wire, or undefined when `server.failureReports: off`. */
export function failureReports(server: ServerConfig): FailureReports | undefined {
  if (server.failureReports === "off") return undefined;
  return { cluster: server.controlPlaneCluster ?? DEFAULT_CONTROL_PLANE_CLUSTER };
}

export function logNameOf(listener: string): string {
  return `${ACCESS_LOG_LOG_NAME_PREFIX}${listener}`;
}

function commonConfig(listener: string, reports: FailureReports): CommonGrpcAccessLogConfig {
  return {
    log_name: logNameOf(listener),
    grpc_service: { envoy_grpc: { cluster_name: reports.cluster } },
    transport_api_version: "V3",
  };
}

/** status >= 500, or one of FAILURE_FLAGS. */
export function httpFailureFilter(): AccessLogFilter {
  return {
    or_filter: {
      filters: [
        { status_code_filter: { comparison: { op: "GE", value: { default_value: FAILURE_STATUS, runtime_key: RUNTIME_KEYS.minStatus } } } },
        { response_flag_filter: { flags: [...FAILURE_FLAGS] } },
      ],
    },
  };
}

export function httpAccessLog(listener: string, reports: FailureReports): AccessLog {
  return {
    name: "envoy.access_loggers.http_grpc",
    filter: httpFailureFilter(),
    typed_config: anyOf(EXTENSION_TYPE_URLS.httpGrpcAccessLog, { common_config: commonConfig(listener, reports) }),
  };
}

export function tcpAccessLog(listener: string, reports: FailureReports): AccessLog {
  return {
    name: "envoy.access_loggers.tcp_grpc",
    filter: {
      runtime_filter: {
        runtime_key: RUNTIME_KEYS.tcpPercent,
        percent_sampled: { numerator: 100, denominator: "HUNDRED" },
        use_independent_randomness: true,
      },
    },
    typed_config: anyOf(EXTENSION_TYPE_URLS.tcpGrpcAccessLog, { common_config: commonConfig(listener, reports) }),
  };
}
