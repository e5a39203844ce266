/**
 * `envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs` on the xDS
 * port: Envoy's gRPC access loggers (envoy.access_loggers.http_grpc /
 * tcp_grpc) stream batches of entries, the node and log_name on a stream's
 * first message only (api/envoy/service/accesslog/v3/als.proto). The loggers
 * wasmxds wires into its listeners are named `wasmxds/<listener>`
 * (src/resources/access-log.ts), so each entry names its listener and the
 * monitor can pin it on the filter versions that listener runs on that node.
 * - HTTP: an entry whose response_code_details is `wasm_fail_stream` is a
 *   request a failed wasm filter answered with 503 (docs/ENVOY.md "What Envoy
 *   does when a running module crashes"); each batch with such entries
 *   becomes one `wasm_fail_stream` signal counting them.
 * - TCP: Envoy records no flag or details when a network wasm filter fails a
 *   connection, and closes it before tcp_proxy reaches upstream
 *   (docs/ENVOY.md "Access logs for failure reports"). On a wasmxds listener,
 *   an entry with no upstream cluster, no response flag and no termination
 *   details is such a connection: a `wasm_fail_connection` signal. Envoy
 *   1.33 logs a module's own close (proxy_close_stream) the same way: its
 *   `wasm_downstream_close` is only the connection's local close reason,
 *   not the termination details the log carries. An entry that does carry
 *   `wasm_downstream_close` / `wasm_upstream_close` (an Envoy that sets
 *   them) is a close, not a crash. Both are failed connections for canary analysis: they
 *   go, per listener, to the `closedConnections` sink (TrafficCounts
 *   addFailures), whose totals are tcp.<stat_prefix>.downstream_cx_total
 *   (docs/HEALTH.md "Canary analysis"). Entries from loggers wasmxds did not
 *   wire are only counted.
 * Volume is bounded per node (DEFAULT_ACCESS_LOG_LIMITS): a byte budget per
 * second checked before decoding (messages over it are dropped undecoded, so
 * a flood costs no decoding and delays no other stream), an entry budget per
 * second (past it only the first entries of a message are read: a sample),
 * and a signal budget per second.
 */
import * as grpc from "@grpc/grpc-js";
import type { TCPAccessLogEntry__Output } from "../generated/envoy/data/accesslog/v3/TCPAccessLogEntry";
import type { StreamAccessLogsMessage__Output } from "../generated/envoy/service/accesslog/v3/StreamAccessLogsMessage";
import { LogLimiter } from "../log-limiter";
import { type Logger, silentLogger } from "../logger";
import type { NodeIdentityMode } from "../net/node-identity";
import { type DecodedProtoTime, msFromProtoTime } from "../proto/time";
import { type Clock, realClock } from "../time/clock";
import type { NodeInfo } from "../vocabulary/node-info";
import { ACCESS_LOG_LOG_NAME_PREFIX } from "../vocabulary/type-urls";
import { clientStreamMethod, newStreamCounters, serveClientStream, StreamRejection, type StreamCounters } from "./client-stream";
import type { SignalHub } from "./signal";

export const ACCESS_LOG_SERVICE_PATH = "/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs";
const REQUEST = "envoy.service.accesslog.v3.StreamAccessLogsMessage";
const RESPONSE = "envoy.service.accesslog.v3.StreamAccessLogsResponse";

/** response_code_details of a request answered by a failed wasm filter (Envoy's wasm filter). */
export const WASM_FAIL_STREAM = "wasm_fail_stream";

export const ACCESS_LOG_SERVICE = { StreamAccessLogs: clientStreamMethod(ACCESS_LOG_SERVICE_PATH) } satisfies grpc.ServiceDefinition;

/** TCP entries of a connection a network wasm filter failed (no access log details name it). */
export const WASM_FAIL_CONNECTION = "wasm_fail_connection";

/** connection_termination_details of a connection a wasm filter closed itself (Envoy's Context::closeStream). */
export const WASM_CLOSE_DETAILS: ReadonlySet<string> = new Set(["wasm_downstream_close", "wasm_upstream_close"]);

/**
 * Where the failed connections of a wasmxds listener go (crashed or closed
 * on purpose by a wasm filter), counted per batch: TrafficCounts.addFailures.
 */
export type ClosedConnectionSink = (nodeId: string, listener: string, failed: number, at: number) => void;

export interface AccessLogLimits {
  /** Bytes in one message (default 8 MiB). */
  readonly maxMessageBytes: number;
  /** Entries in one batch (default 100000). */
  readonly maxEntriesPerMessage: number;
  /** Message bytes read per node per second; more are dropped undecoded (default 4 MiB). */
  readonly maxBytesPerNodePerSecond: number;
  /** Entries read per node per second; past it the rest of a message is skipped (default 20000). */
  readonly maxEntriesPerNodePerSecond: number;
  /** Signals per node per second; more are dropped and counted (default 20). */
  readonly maxSignalsPerNodePerSecond: number;
}

export const DEFAULT_ACCESS_LOG_LIMITS: AccessLogLimits = Object.freeze({
  maxMessageBytes: 8 * 1024 * 1024,
  maxEntriesPerMessage: 100_000,
  maxBytesPerNodePerSecond: 4 * 1024 * 1024,
  maxEntriesPerNodePerSecond: 20_000,
  maxSignalsPerNodePerSecond: 20,
});

/** One node's budgets for the current second, and its open streams (the entry goes with the last). */
interface NodeBudget {
  second: number;
  bytes: number;
  entries: number;
  signals: number;
  streams: number;
}

export interface AccessLogIngestOptions {
  readonly hub: SignalHub;
  readonly logger?: Logger;
  readonly limits?: Partial<AccessLogLimits>;
  readonly now?: () => number;
  /** For the rate limit of peer-triggered warnings (default: the process clock). */
  readonly clock?: Clock;
  /** Failed connections per listener, for canary analysis (not subject to the signal budget). */
  readonly closedConnections?: ClosedConnectionSink;
  /** `--node-identity`: access logs only for the node the client certificate names (net/node-identity.ts). */
  readonly nodeIdentity?: NodeIdentityMode;
}

export interface AccessLogStats extends StreamCounters {
  readonly httpEntries: number;
  readonly tcpEntries: number;
  readonly failStreamEntries: number;
  readonly failConnectionEntries: number;
  /** TCP entries of connections a wasm filter closed on purpose (termination details wasm_downstream_close / wasm_upstream_close). */
  readonly filterCloseEntries: number;
  readonly signals: number;
  /** Messages dropped undecoded over a node's byte budget. */
  readonly messagesDropped: number;
  /** Entries not read over a node's entry budget. */
  readonly entriesSkipped: number;
  /** Signals dropped over a node's signal budget. */
  readonly signalsDropped: number;
  /** Nodes with open access log streams. */
  readonly nodes: number;
}

export class AccessLogIngest {
  private readonly logger: Logger;
  private readonly limits: AccessLogLimits;
  private readonly now: () => number;
  private readonly counters = newStreamCounters();
  private readonly warnings: LogLimiter;
  private readonly open = new Set<() => void>();
  private readonly entries = { http: 0, tcp: 0, failStream: 0, failConnection: 0, filterClose: 0, signals: 0, messagesDropped: 0, skipped: 0, signalsDropped: 0 };
  private readonly budgets = new Map<string, NodeBudget>();
  private readonly clock: Clock;

  constructor(private readonly options: AccessLogIngestOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: "access-log-service" });
    this.clock = options.clock ?? realClock;
    this.warnings = new LogLimiter(this.logger, this.clock);
    this.limits = Object.freeze({ ...DEFAULT_ACCESS_LOG_LIMITS, ...options.limits });
    this.now = options.now ?? (() => this.clock.now());
  }

  /** Registers StreamAccessLogs on the gRPC server (the xDS port). */
  register(server: Pick<grpc.Server, "addService">): void {
    server.addService(ACCESS_LOG_SERVICE, {
      StreamAccessLogs: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        let logName = "";
        let budget: NodeBudget | undefined;
        serveClientStream<StreamAccessLogsMessage__Output>(call, callback, {
          requestType: REQUEST,
          responseType: RESPONSE,
          maxMessageBytes: this.limits.maxMessageBytes,
          logger: this.logger,
          warnings: this.warnings,
          counters: this.counters,
          open: this.open,
          ...(this.options.nodeIdentity && { nodeIdentity: this.options.nodeIdentity }),
          admit: (node, bytes) => this.admit(this.budgetOf(node.id, budget), bytes),
          onMessage: (node, message) => {
            // log_name, like the node, comes on the first message only.
            logName = message.identifier?.log_name || logName;
            if (!budget) {
              budget = this.budgetOf(node.id, undefined);
              budget.streams++;
            }
            this.onMessage(node, message, logName, budget);
          },
          onClose: (node) => {
            if (!node || !budget) return;
            budget.streams--;
            if (budget.streams <= 0) this.budgets.delete(node.id);
          },
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
      failConnectionEntries: this.entries.failConnection,
      filterCloseEntries: this.entries.filterClose,
      signals: this.entries.signals,
      messagesDropped: this.entries.messagesDropped,
      entriesSkipped: this.entries.skipped,
      signalsDropped: this.entries.signalsDropped,
      nodes: this.budgets.size,
    };
  }

  private budgetOf(nodeId: string, held: NodeBudget | undefined): NodeBudget {
    const b = held ?? this.budgets.get(nodeId) ?? { second: 0, bytes: 0, entries: 0, signals: 0, streams: 0 };
    if (!held && !this.budgets.has(nodeId)) this.budgets.set(nodeId, b);
    const second = Math.floor(this.clock.now() / 1000);
    if (b.second !== second) {
      b.second = second;
      b.bytes = 0;
      b.entries = 0;
      b.signals = 0;
    }
    return b;
  }

  private admit(budget: NodeBudget, bytes: number): boolean {
    if (budget.bytes + bytes > this.limits.maxBytesPerNodePerSecond) {
      this.entries.messagesDropped++;
      return false;
    }
    budget.bytes += bytes;
    return true;
  }

  private onMessage(node: NodeInfo, message: StreamAccessLogsMessage__Output, logName: string, budget: NodeBudget): void {
    const allHttp = message.http_logs?.log_entry ?? [];
    const allTcp = message.tcp_logs?.log_entry ?? [];
    const total = allHttp.length + allTcp.length;
    if (total > this.limits.maxEntriesPerMessage) {
      throw new StreamRejection(grpc.status.RESOURCE_EXHAUSTED, `${total} access log entries in one message, over the limit of ${this.limits.maxEntriesPerMessage}`);
    }
    const budgetNow = this.budgetOf(node.id, budget);
    const room = Math.max(0, this.limits.maxEntriesPerNodePerSecond - budgetNow.entries);
    const http = allHttp.length > room ? allHttp.slice(0, room) : allHttp;
    const tcp = allTcp.length > room - http.length ? allTcp.slice(0, Math.max(0, room - http.length)) : allTcp;
    const read = http.length + tcp.length;
    budgetNow.entries += read;
    this.entries.skipped += total - read;
    this.entries.http += http.length;
    this.entries.tcp += tcp.length;
    const listener = logName.startsWith(ACCESS_LOG_LOG_NAME_PREFIX) ? logName.slice(ACCESS_LOG_LOG_NAME_PREFIX.length) : undefined;
    const from = logName ? ` (access log ${logName})` : "";

    let failed = 0;
    let failedLast: number | undefined;
    for (const entry of http) {
      if (entry.response?.response_code_details !== WASM_FAIL_STREAM) continue;
      failed++;
      failedLast = latest(failedLast, entry.common_properties?.start_time);
    }
    if (failed > 0) {
      this.entries.failStream += failed;
      this.signal(node, budgetNow, "wasm_fail_stream", failed, `${failed} of ${http.length} requests answered with response_code_details ${WASM_FAIL_STREAM}${from}`, listener, failedLast);
    }
    // Only on listeners wasmxds wired: elsewhere a connection that never reached upstream says nothing about a filter.
    if (listener === undefined) return;
    let closed = 0;
    let closedLast: number | undefined;
    let closedOnPurpose = 0;
    for (const entry of tcp) {
      if (closedByFilter(entry)) {
        closedOnPurpose++;
        continue;
      }
      if (!failedConnection(entry)) continue;
      closed++;
      closedLast = latest(closedLast, entry.common_properties?.start_time);
    }
    this.entries.filterClose += closedOnPurpose;
    if (closed + closedOnPurpose > 0) this.options.closedConnections?.(node.id, listener, closed + closedOnPurpose, this.now());
    if (closed > 0) {
      this.entries.failConnection += closed;
      this.signal(
        node,
        budgetNow,
        WASM_FAIL_CONNECTION,
        closed,
        `${closed} of ${tcp.length} connections closed before reaching upstream, with no response flag or termination details${from}`,
        listener,
        closedLast,
      );
    }
  }

  private signal(
    node: NodeInfo,
    budget: NodeBudget,
    kind: "wasm_fail_stream" | "wasm_fail_connection",
    count: number,
    evidence: string,
    listener: string | undefined,
    occurredAt: number | undefined,
  ): void {
    if (budget.signals >= this.limits.maxSignalsPerNodePerSecond) {
      this.entries.signalsDropped++;
      return;
    }
    budget.signals++;
    this.entries.signals++;
    this.options.hub.emit({ nodeId: node.id, kind, count, evidence, source: "access-log", at: this.now(), ...(listener !== undefined && { listener }), ...(occurredAt !== undefined && { occurredAt }) });
  }
}

/**
 * A TCP entry of a connection closed before tcp_proxy reached an upstream
 * host (upstream_cluster is set only then: grpc_common utility.cc), for no
 * reason Envoy records: a network filter before tcp_proxy closed it. A wasm
 * filter's failStream does exactly that (docs/ENVOY.md "Access logs for
 * failure reports").
 */
function failedConnection(entry: TCPAccessLogEntry__Output): boolean {
  const common = entry.common_properties;
  if (!common || common.upstream_cluster) return false;
  if (common.connection_termination_details) return false;
  const flags = common.response_flags;
  return !flags || !Object.values(flags).some((v) => v === true || (typeof v === "object" && v !== null));
}

/** A TCP entry of a connection a wasm filter closed itself (proxy_close_stream): Envoy's closeStream passes these details. */
function closedByFilter(entry: TCPAccessLogEntry__Output): boolean {
  const details = entry.common_properties?.connection_termination_details;
  return details !== undefined && WASM_CLOSE_DETAILS.has(details);
}

/** The later of a time so far and an entry's google.protobuf.Timestamp (ms since the epoch); a missing or absurd one is ignored. */
function latest(sofar: number | undefined, ts: DecodedProtoTime | null | undefined): number | undefined {
  if (!ts) return sofar;
  const ms = msFromProtoTime(ts);
  if (!Number.isFinite(ms) || ms <= 0) return sofar;
  return sofar === undefined || ms > sofar ? ms : sofar;
}
