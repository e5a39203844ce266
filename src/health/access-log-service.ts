/**
 * `envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs` on the xDS
 * port: Envoy's gRPC access logger (envoy.access_loggers.http_grpc /
 * tcp_grpc) streams batches of entries, the node on a stream's first
 * message only (api/envoy/service/accesslog/v3/als.proto). An HTTP entry
 * whose response_code_details is `wasm_fail_stream` is a request a failed
 * wasm filter answered with 503 (docs/ENVOY.md "What Envoy does when a
 * running module crashes"); each batch with such entries becomes one
 * `wasm_fail_stream` signal counting them. The entry names no plugin, so
 * the signal has none. TCP entries are only counted: a network filter's
 * failure shows as a closed connection with no details to match.
 */
import * as grpc from "@grpc/grpc-js";
import type { StreamAccessLogsMessage__Output } from "../generated/envoy/service/accesslog/v3/StreamAccessLogsMessage";
import { LogLimiter } from "../log-limiter";
import { type Logger, silentLogger } from "../logger";
import { type Clock, realClock } from "../time/clock";
import type { NodeInfo } from "../vocabulary/node-info";
import { clientStreamMethod, newStreamCounters, serveClientStream, StreamRejection, type StreamCounters } from "./client-stream";
import type { SignalHub } from "./signal";

export const ACCESS_LOG_SERVICE_PATH = "/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs";
const REQUEST = "envoy.service.accesslog.v3.StreamAccessLogsMessage";
const RESPONSE = "envoy.service.accesslog.v3.StreamAccessLogsResponse";

/** response_code_details of a request answered by a failed wasm filter (Envoy's wasm filter). */
export const WASM_FAIL_STREAM = "wasm_fail_stream";

export const ACCESS_LOG_SERVICE = { StreamAccessLogs: clientStreamMethod(ACCESS_LOG_SERVICE_PATH) } satisfies grpc.ServiceDefinition;

export interface AccessLogLimits {
  /** Bytes in one message (default 8 MiB). */
  readonly maxMessageBytes: number;
  /** Entries in one batch (default 100000). */
  readonly maxEntriesPerMessage: number;
}

export const DEFAULT_ACCESS_LOG_LIMITS: AccessLogLimits = Object.freeze({ maxMessageBytes: 8 * 1024 * 1024, maxEntriesPerMessage: 100_000 });

export interface AccessLogIngestOptions {
  readonly hub: SignalHub;
  readonly logger?: Logger;
  readonly limits?: Partial<AccessLogLimits>;
  readonly now?: () => number;
  /** For the rate limit of peer-triggered warnings (default: the process clock). */
  readonly clock?: Clock;
}

export interface AccessLogStats extends StreamCounters {
  readonly httpEntries: number;
  readonly tcpEntries: number;
  readonly failStreamEntries: number;
  readonly signals: number;
}

export class AccessLogIngest {
  private readonly logger: Logger;
  private readonly limits: AccessLogLimits;
  private readonly now: () => number;
  private readonly counters = newStreamCounters();
  private readonly warnings: LogLimiter;
  private readonly open = new Set<() => void>();
  private readonly entries = { http: 0, tcp: 0, failStream: 0, signals: 0 };

  constructor(private readonly options: AccessLogIngestOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: "access-log-service" });
    this.warnings = new LogLimiter(this.logger, options.clock ?? realClock);
    this.limits = Object.freeze({ ...DEFAULT_ACCESS_LOG_LIMITS, ...options.limits });
    this.now = options.now ?? Date.now;
  }

  /** Registers StreamAccessLogs on the gRPC server (the xDS port). */
  register(server: grpc.Server): void {
    server.addService(ACCESS_LOG_SERVICE, {
      StreamAccessLogs: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        let logName = "";
        serveClientStream<StreamAccessLogsMessage__Output>(call, callback, {
          requestType: REQUEST,
          responseType: RESPONSE,
          maxMessageBytes: this.limits.maxMessageBytes,
          logger: this.logger,
          warnings: this.warnings,
          counters: this.counters,
          open: this.open,
          onMessage: (node, message) => {
            // log_name, like the node, comes on the first message only.
            logName = message.identifier?.log_name || logName;
            this.onMessage(node, message, logName);
          },
          onClose: () => {},
        });
      },
    });
  }

  /** Ends every open stream with OK (shutdown: Envoy reconnects to the next control plane) and logs suppressed warnings. */
  closeAll(): void {
    for (const end of [...this.open]) end();
    this.warnings.close();
  }

  stats(): AccessLogStats {
    return {
      ...this.counters,
      httpEntries: this.entries.http,
      tcpEntries: this.entries.tcp,
      failStreamEntries: this.entries.failStream,
      signals: this.entries.signals,
    };
  }

  private onMessage(node: NodeInfo, message: StreamAccessLogsMessage__Output, logName: string): void {
    const http = message.http_logs?.log_entry ?? [];
    const tcp = message.tcp_logs?.log_entry ?? [];
    const total = http.length + tcp.length;
    if (total > this.limits.maxEntriesPerMessage) {
      throw new StreamRejection(grpc.status.RESOURCE_EXHAUSTED, `${total} access log entries in one message, over the limit of ${this.limits.maxEntriesPerMessage}`);
    }
    this.entries.http += http.length;
    this.entries.tcp += tcp.length;
    let failed = 0;
    for (const entry of http) if (entry.response?.response_code_details === WASM_FAIL_STREAM) failed++;
    if (failed === 0) return;
    this.entries.failStream += failed;
    this.entries.signals++;
    const from = logName ? ` (access log ${logName})` : "";
    this.options.hub.emit({
      nodeId: node.id,
      kind: "wasm_fail_stream",
      count: failed,
      evidence: `${failed} of ${http.length} requests answered with response_code_details ${WASM_FAIL_STREAM}${from}`,
      source: "access-log",
      at: this.now(),
    });
  }
}
