/**
 * What a simulated node takes from an access log in a listener or an
 * HttpConnectionManager, and how it evaluates the access log filter the way
 * Envoy does (source/common/access_log/access_log_impl.cc; docs/ENVOY.md
 * "Access logs for failure reports"):
 * - status_code_filter: the response code (0 when none) against the
 *   runtime value, i.e. the default_value here (the simulator has no runtime);
 * - response_flag_filter: any of the listed flags, or any flag when none is listed;
 * - or_filter / and_filter: in order, short-circuit;
 * - runtime_filter: percent_sampled (default 0%) drawn at random;
 * - not_health_check_filter: true (no health checks are simulated);
 * - duration_filter: the simulated chain takes no time, so a duration of 0.
 * Other filter types are taken as true (the entry is logged), and said so in
 * docs/SIMULATOR.md. Only gRPC loggers (http_grpc, tcp_grpc) are read;
 * other access loggers are ignored.
 */
import type { AccessLog__Output } from "../../generated/envoy/config/accesslog/v3/AccessLog";
import type { AccessLogFilter__Output } from "../../generated/envoy/config/accesslog/v3/AccessLogFilter";
import type { ComparisonFilter__Output } from "../../generated/envoy/config/accesslog/v3/ComparisonFilter";
import type { HttpGrpcAccessLogConfig__Output } from "../../generated/envoy/extensions/access_loggers/grpc/v3/HttpGrpcAccessLogConfig";
import { decodeMessage, messageNameOf } from "../../proto/registry";
import { durationMs } from "./proto-util";
import { EXTENSION_TYPE_URLS } from "../../vocabulary/type-urls";
import type { Random } from "../backoff";

/** Envoy's short response flag names and the AccessLogCommon.response_flags field of each. */
export const RESPONSE_FLAG_FIELDS: Readonly<Record<string, string>> = Object.freeze({
  LH: "failed_local_healthcheck",
  UH: "no_healthy_upstream",
  UT: "upstream_request_timeout",
  LR: "local_reset",
  UR: "upstream_remote_reset",
  UF: "upstream_connection_failure",
  UC: "upstream_connection_termination",
  UO: "upstream_overflow",
  NR: "no_route_found",
  DI: "delay_injected",
  FI: "fault_injected",
  RL: "rate_limited",
  RLSE: "rate_limit_service_error",
  DC: "downstream_connection_termination",
  URX: "upstream_retry_limit_exceeded",
  SI: "stream_idle_timeout",
  IH: "invalid_envoy_request_headers",
  DPE: "downstream_protocol_error",
  UMSDR: "upstream_max_stream_duration_reached",
  RFCF: "response_from_cache_filter",
  NFCF: "no_filter_config_found",
  DT: "duration_timeout",
  UPE: "upstream_protocol_error",
  NC: "no_cluster_found",
  OM: "overload_manager",
  DF: "dns_resolution_failure",
});

export interface AccessLogSpec {
  readonly kind: "http" | "tcp";
  readonly logName: string;
  /** CommonGrpcAccessLogConfig.grpc_service.envoy_grpc.cluster_name. */
  readonly cluster: string;
  readonly filter: AccessLogFilter__Output | null;
  /** buffer_flush_interval (default 1 s) and buffer_size_bytes (default 16 KiB). */
  readonly flushIntervalMs: number;
  readonly bufferSizeBytes: number;
}

/** What a filter sees of a request or connection. */
export interface LoggedOutcome {
  /** HTTP status; 0 when none (TCP). */
  readonly status: number;
  readonly flags: readonly string[];
}

const LOGGERS: Readonly<Record<string, "http" | "tcp">> = {
  [EXTENSION_TYPE_URLS.httpGrpcAccessLog]: "http",
  [EXTENSION_TYPE_URLS.tcpGrpcAccessLog]: "tcp",
};

/** The gRPC access logs among `logs` (others are not simulated). */
export function readAccessLogs(logs: readonly AccessLog__Output[]): AccessLogSpec[] {
  return logs.flatMap((log) => {
    const typeUrl = log.typed_config?.type_url ?? "";
    const kind = LOGGERS[typeUrl];
    if (!kind) return [];
    // Http and Tcp configs both carry common_config as field 1.
    const config = decodeMessage<HttpGrpcAccessLogConfig__Output>(messageNameOf(typeUrl), log.typed_config?.value ?? Buffer.alloc(0));
    const common = config.common_config;
    if (!common?.log_name) throw new Error("Proto constraint validation failed (CommonGrpcAccessLogConfigValidationError.LogName: value length must be at least 1 characters)");
    const interval = common.buffer_flush_interval;
    return [
      {
        kind,
        logName: common.log_name,
        cluster: common.grpc_service?.envoy_grpc?.cluster_name ?? "",
        filter: log.filter,
        flushIntervalMs: durationMs(interval, 1000),
        bufferSizeBytes: common.buffer_size_bytes?.value ?? 16384,
      },
    ];
  });
}

function compare(c: ComparisonFilter__Output | null, value: number): boolean {
  const against = c?.value?.default_value ?? 0;
  if (c?.op === "GE") return value >= against;
  if (c?.op === "LE") return value <= against;
  return value === against;
}

function percentOf(p: { numerator: number; denominator: string } | null): number {
  if (!p) return 0;
  const d = p.denominator === "TEN_THOUSAND" ? 10_000 : p.denominator === "MILLION" ? 1_000_000 : 100;
  return p.numerator / d;
}

/** Whether Envoy would log `outcome` under `filter` (null: log everything). */
export function evaluateFilter(filter: AccessLogFilter__Output | null, outcome: LoggedOutcome, random: Random): boolean {
  if (!filter) return true;
  switch (filter.filter_specifier) {
    case "status_code_filter":
      return compare(filter.status_code_filter?.comparison ?? null, outcome.status);
    case "duration_filter":
      return compare(filter.duration_filter?.comparison ?? null, 0);
    case "response_flag_filter": {
      const wanted = filter.response_flag_filter?.flags ?? [];
      return wanted.length === 0 ? outcome.flags.length > 0 : outcome.flags.some((f) => wanted.includes(f));
    }
    case "or_filter":
      return (filter.or_filter?.filters ?? []).some((f) => evaluateFilter(f, outcome, random));
    case "and_filter":
      return (filter.and_filter?.filters ?? []).every((f) => evaluateFilter(f, outcome, random));
    case "runtime_filter":
      return random() < percentOf(filter.runtime_filter?.percent_sampled ?? null);
    default:
      return true;
  }
}
