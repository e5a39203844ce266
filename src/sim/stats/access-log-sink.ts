/**
 * Envoy's gRPC access loggers (envoy.access_loggers.http_grpc / tcp_grpc;
 * source/extensions/access_loggers/grpc/ and common/grpc_access_logger.h,
 * docs/ENVOY.md "Access logs for failure reports"), as a simulated node runs
 * them for the access logs its listeners were served:
 * - the access log filter decides per request or connection (access-log-spec.ts);
 * - one logger per distinct config, each with its own client stream to
 *   envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs whose first
 *   message carries the identifier (node and log_name);
 * - entries are buffered and flushed every buffer_flush_interval (default
 *   1 s) or as soon as buffer_size_bytes (default 16 KiB) is reached;
 * - counters access_logs.grpc_access_log.logs_written / logs_dropped.
 * The node's xDS address stands for the control-plane cluster (the
 * bootstrap's static cluster, `controlPlaneCluster`, default xds_cluster);
 * entries for any other cluster are dropped and counted (the simulator does
 * not route gRPC to dynamic clusters). A broken stream is replaced at the
 * next flush, starting again with the identifier.
 */
import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "../../logger";
import { encodeMessage } from "../../proto/registry";
import { protoTimeFromMs } from "../../proto/time";
import { type Clock, every, type TimerHandle } from "../../time/clock";
import type { Random } from "../backoff";
import { type AccessLogSpec, evaluateFilter, RESPONSE_FLAG_FIELDS } from "../config/access-log-spec";
import type { ListenerSpec } from "../config/listener-spec";
import type { HttpOutcome } from "../traffic/http-stream";
import type { TcpOutcome } from "../traffic/tcp-connection";
import type { StatsStore } from "./stats-store";

export const ACCESS_LOG_SERVICE_PATH = "/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs";
const MESSAGE = "envoy.service.accesslog.v3.StreamAccessLogsMessage";
const HTTP_ENTRY = "envoy.data.accesslog.v3.HTTPAccessLogEntry";
const TCP_ENTRY = "envoy.data.accesslog.v3.TCPAccessLogEntry";
export const DEFAULT_CONTROL_PLANE_CLUSTER = "xds_cluster";
const WRITTEN = "access_logs.grpc_access_log.logs_written";
const DROPPED = "access_logs.grpc_access_log.logs_dropped";

type Entry = Record<string, unknown>;
/** envoy.config.core.v3.RequestMethod names. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);

class GrpcLogger {
  private buffer: Entry[] = [];
  private bytes = 0;
  private call: grpc.ClientWritableStream<Buffer> | undefined;
  private readonly timer: TimerHandle;

  constructor(
    readonly spec: AccessLogSpec,
    private readonly sink: AccessLogSink,
  ) {
    this.timer = every(sink.clock, spec.flushIntervalMs, () => this.flush());
  }

  add(entry: Entry, size: number): void {
    this.buffer.push(entry);
    this.bytes += size;
    if (this.bytes >= this.spec.bufferSizeBytes) this.flush();
  }

  flush(): number {
    if (this.buffer.length === 0) return 0;
    const entries = this.buffer;
    this.buffer = [];
    this.bytes = 0;
    const first = this.call === undefined;
    const call = this.call ?? this.open();
    const logs = this.spec.kind === "http" ? { http_logs: { log_entry: entries } } : { tcp_logs: { log_entry: entries } };
    const message = first ? { identifier: { node: this.sink.node, log_name: this.spec.logName }, ...logs } : logs;
    call.write(encodeMessage(MESSAGE, message));
    this.sink.stats.inc(WRITTEN, entries.length);
    return entries.length;
  }

  close(): void {
    this.timer.cancel();
    this.call?.end();
    this.call = undefined;
  }

  private open(): grpc.ClientWritableStream<Buffer> {
    const call = this.sink.client.makeClientStreamRequest<Buffer, Buffer>(
      ACCESS_LOG_SERVICE_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
      (err) => {
        if (err) this.sink.logger.debug("access log stream ended", { log: this.spec.logName, error: err.message });
        if (this.call === call) this.call = undefined;
      },
    );
    call.on("error", () => {
      if (this.call === call) this.call = undefined;
    });
    this.call = call;
    return call;
  }
}

function responseFlags(flags: readonly string[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const f of flags) {
    const field = RESPONSE_FLAG_FIELDS[f];
    if (field) out[field] = true;
  }
  return out;
}

function addressOf(listener: ListenerSpec): Record<string, unknown> {
  const at = listener.address.lastIndexOf(":");
  return { socket_address: { address: listener.address.slice(0, at), port_value: Number(listener.address.slice(at + 1)) || 0 } };
}

export class AccessLogSink {
  private readonly loggers = new Map<string, GrpcLogger>();

  constructor(
    readonly client: grpc.Client,
    readonly stats: StatsStore,
    readonly node: Record<string, unknown>,
    readonly clock: Clock,
    private readonly random: Random,
    readonly logger: Logger,
    private readonly controlPlaneCluster: string,
  ) {}

  /** Logs a request through the HttpConnectionManager's access logs. */
  logHttp(listener: ListenerSpec, outcome: HttpOutcome, method: string, path: string, authority: string): void {
    for (const spec of listener.http?.accessLogs ?? []) {
      if (spec.kind !== "http" || !evaluateFilter(spec.filter, { status: outcome.status, flags: outcome.responseFlags }, this.random)) continue;
      const entry = {
        common_properties: {
          downstream_local_address: addressOf(listener),
          start_time: protoTimeFromMs(this.clock.now()),
          response_flags: responseFlags(outcome.responseFlags),
          access_log_type: "DownstreamEnd",
        },
        protocol_version: "HTTP11",
        request: { request_method: METHODS.has(method) ? method : "METHOD_UNSPECIFIED", path, authority, scheme: "http" },
        response: { response_code: { value: outcome.status }, response_code_details: outcome.details },
      };
      this.add(spec, HTTP_ENTRY, entry);
    }
  }

  /** Logs a connection through the listener's access logs, at its end. */
  logTcp(listener: ListenerSpec, outcome: TcpOutcome): void {
    for (const spec of listener.accessLogs) {
      if (spec.kind !== "tcp" || !evaluateFilter(spec.filter, { status: 0, flags: outcome.responseFlags }, this.random)) continue;
      const entry = {
        common_properties: {
          downstream_local_address: addressOf(listener),
          start_time: protoTimeFromMs(this.clock.now()),
          response_flags: responseFlags(outcome.responseFlags),
          // Set only when tcp_proxy reached an upstream host (grpc_common utility.cc).
          ...(outcome.upstreamCluster && { upstream_cluster: outcome.upstreamCluster }),
          // A filter's own proxy_close_stream names itself; a failed filter's close does not (docs/ENVOY.md).
          ...(outcome.terminationDetails && { connection_termination_details: outcome.terminationDetails }),
          access_log_type: "TcpConnectionEnd",
        },
        connection_properties: { received_bytes: outcome.receivedBytes, sent_bytes: outcome.sentBytes },
      };
      this.add(spec, TCP_ENTRY, entry);
    }
  }

  /** Flushes every logger now; returns the entries written. */
  flush(): number {
    let n = 0;
    for (const l of this.loggers.values()) n += l.flush();
    return n;
  }

  stop(): void {
    for (const l of this.loggers.values()) l.close();
    this.loggers.clear();
  }

  private add(spec: AccessLogSpec, type: string, entry: Entry): void {
    if (spec.cluster !== this.controlPlaneCluster) {
      this.stats.inc(DROPPED);
      return;
    }
    const key = `${spec.kind}|${spec.logName}|${spec.cluster}|${spec.flushIntervalMs}|${spec.bufferSizeBytes}`;
    let logger = this.loggers.get(key);
    if (!logger) {
      logger = new GrpcLogger(spec, this);
      this.loggers.set(key, logger);
    }
    logger.add(entry, encodeMessage(type, entry).length);
  }
}
