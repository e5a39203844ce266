/**
 * Numeric enumerations shared by host and module. Values from
 * proxy-wasm-cpp-sdk proxy_wasm_common.h and proxy_wasm_enums.h, which
 * proxy-wasm-cpp-host (and so Envoy) includes verbatim.
 */

/** Status returned by every proxy_* host function. */
export const WasmResult = Object.freeze({
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  BadExpression: 5,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  ResultMismatch: 9,
  InternalFailure: 10,
  BrokenConnection: 11,
  Unimplemented: 12,
} as const);
export type WasmResult = (typeof WasmResult)[keyof typeof WasmResult];

/** proxy_log levels; Max = critical. */
export const LogLevel = Object.freeze({ trace: 0, debug: 1, info: 2, warn: 3, error: 4, critical: 5 } as const);
export type LogLevelName = keyof typeof LogLevel;
export const LOG_LEVEL_NAMES: readonly LogLevelName[] = Object.freeze([
  "trace",
  "debug",
  "info",
  "warn",
  "error",
  "critical",
]);

export const HeaderMapType = Object.freeze({
  RequestHeaders: 0,
  RequestTrailers: 1,
  ResponseHeaders: 2,
  ResponseTrailers: 3,
  GrpcReceiveInitialMetadata: 4,
  GrpcReceiveTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const);
export const HEADER_MAP_TYPE_MAX = 7;

export const BufferType = Object.freeze({
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  NetworkDownstreamData: 2,
  NetworkUpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  CallData: 8,
} as const);
export const BUFFER_TYPE_MAX = 8;

export const StreamType = Object.freeze({ Request: 0, Response: 1, Downstream: 2, Upstream: 3 } as const);
export const STREAM_TYPE_MAX = 3;

export const MetricType = Object.freeze({ Counter: 0, Gauge: 1, Histogram: 2 } as const);
export type MetricKind = "counter" | "gauge" | "histogram";

/** Who closed a connection (proxy_on_*_connection_close). */
export const PeerType = Object.freeze({ Unknown: 0, Local: 1, Remote: 2 } as const);

export const FilterStatus = Object.freeze({ Continue: 0, StopIteration: 1 } as const);

export const FilterHeadersStatus = Object.freeze({
  Continue: 0,
  StopIteration: 1,
  ContinueAndEndStream: 2,
  StopAllIterationAndBuffer: 3,
  StopAllIterationAndWatermark: 4,
} as const);

export const FilterDataStatus = Object.freeze({
  Continue: 0,
  StopIterationAndBuffer: 1,
  StopIterationAndWatermark: 2,
  StopIterationNoBuffer: 3,
} as const);

export const FilterTrailersStatus = Object.freeze({ Continue: 0, StopIteration: 1 } as const);
