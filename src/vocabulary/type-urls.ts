/**
 * xDS resource types served by wasmxds, keyed by type URL (the table style of
 * grpc-js-xds). ADS_ORDER is the order in which changed types are pushed on a
 * stream: CDS before EDS, ECDS before LDS, LDS before RDS, so that nothing a
 * resource refers to arrives after it (make-before-break; see Envoy's
 * "xDS protocol: eventual consistency considerations").
 */
export const TYPE_URLS = {
  cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  endpoint: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
  extensionConfig: "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
  listener: "type.googleapis.com/envoy.config.listener.v3.Listener",
  route: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
} as const;

export type ResourceKind = keyof typeof TYPE_URLS;
export type TypeUrl = (typeof TYPE_URLS)[ResourceKind];

export const ADS_ORDER: readonly TypeUrl[] = [
  TYPE_URLS.cluster,
  TYPE_URLS.endpoint,
  TYPE_URLS.extensionConfig,
  TYPE_URLS.listener,
  TYPE_URLS.route,
];

/** Short names for logs and the admin API. */
export const SHORT_NAMES: Readonly<Record<TypeUrl, string>> = {
  [TYPE_URLS.cluster]: "CDS",
  [TYPE_URLS.endpoint]: "EDS",
  [TYPE_URLS.extensionConfig]: "ECDS",
  [TYPE_URLS.listener]: "LDS",
  [TYPE_URLS.route]: "RDS",
};

/** Types whose SotW subscription may be a wildcard (empty names = all). */
export const WILDCARD_TYPES: ReadonlySet<string> = new Set([TYPE_URLS.cluster, TYPE_URLS.listener]);

export function isTypeUrl(url: string): url is TypeUrl {
  return (ADS_ORDER as readonly string[]).includes(url);
}

/** Well-known filter and extension type URLs used by the resource builders. */
export const EXTENSION_TYPE_URLS = {
  httpWasm: "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
  networkWasm: "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm",
  httpConnectionManager:
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  tcpProxy: "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
  router: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
  stringValue: "type.googleapis.com/google.protobuf.StringValue",
  httpProtocolOptions: "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
  httpGrpcAccessLog: "type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig",
  tcpGrpcAccessLog: "type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.TcpGrpcAccessLogConfig",
} as const;

/** log_name of the access logs wasmxds wires into a listener: this prefix, then the listener's name. */
export const ACCESS_LOG_LOG_NAME_PREFIX = "wasmxds/";
