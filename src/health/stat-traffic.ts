/**
 * The per-listener traffic counters canary analysis reads: how many requests
 * (or connections) a listener served and how many failed. Shared by the
 * metrics service ingest and the admin poller, like stat-names.ts for the
 * wasm stats (docs/ENVOY.md "Counters of failed requests and connections").
 *
 * - HTTP, from the HTTP connection manager's scope `http.<stat_prefix>.`
 *   (source/common/http/conn_manager_impl.cc, conn_manager_config.h
 *   ALL_HTTP_CONN_MAN_STATS): `downstream_rq_completed` counts every request
 *   that got a response, `downstream_rq_5xx` those answered 5xx (a failed
 *   filter's 503 `wasm_fail_stream` included). A filter that answers 500
 *   counts there too; `downstream_rq_4xx` is not read (a 403 is usually the
 *   filter doing its job).
 * - TCP, from tcp_proxy's scope `tcp.<stat_prefix>.`
 *   (source/common/tcp_proxy/tcp_proxy.h ALL_TCP_PROXY_STATS):
 *   `downstream_cx_total` counts every connection, incremented when the
 *   filter chain is created, so also those a network wasm filter closes
 *   before tcp_proxy runs. No Envoy counter counts connections a network
 *   filter closed (Context::failStream closes with FlushWrite and no stat),
 *   so TCP failures come from the access log (AccessLogIngest), not from here.
 * Stat prefixes may contain dots: names are split by their known prefix and
 * suffix. With emit_tags_as_labels, Envoy's default tag extractors take the
 * prefix out (`envoy.http_conn_manager_prefix`, `envoy.tcp_prefix`) and the
 * class digit (`envoy.response_code_class`: `http.downstream_rq_xx`); the
 * name is put back from the labels (trafficStatNameOf).
 */

export type TrafficProtocol = "http" | "tcp";

export interface TrafficStat {
  readonly protocol: TrafficProtocol;
  /** The listener's stat_prefix (HCM or tcp_proxy). */
  readonly statPrefix: string;
  /** `failed`: a failed request; `total`: every request or connection. */
  readonly counts: "failed" | "total";
}

const HTTP_FAILED = ".downstream_rq_5xx";
const HTTP_TOTAL = ".downstream_rq_completed";
const TCP_TOTAL = ".downstream_cx_total";

/** The admin `filter=` alternative that selects exactly the names trafficStat accepts (RE2). */
export const ADMIN_TRAFFIC_FILTER = "^http\\..+\\.downstream_rq_(5xx|completed)$|^tcp\\..+\\.downstream_cx_total$";

/** What a counter says about a listener's traffic, or undefined. */
export function trafficStat(name: string): TrafficStat | undefined {
  if (name.startsWith("http.")) {
    const rest = name.slice("http.".length);
    if (rest.endsWith(HTTP_FAILED) && rest.length > HTTP_FAILED.length) return { protocol: "http", statPrefix: rest.slice(0, -HTTP_FAILED.length), counts: "failed" };
    if (rest.endsWith(HTTP_TOTAL) && rest.length > HTTP_TOTAL.length) return { protocol: "http", statPrefix: rest.slice(0, -HTTP_TOTAL.length), counts: "total" };
    return undefined;
  }
  if (name.startsWith("tcp.")) {
    const rest = name.slice("tcp.".length);
    if (rest.endsWith(TCP_TOTAL) && rest.length > TCP_TOTAL.length) return { protocol: "tcp", statPrefix: rest.slice(0, -TCP_TOTAL.length), counts: "total" };
  }
  return undefined;
}

export interface TrafficLabel {
  readonly name: string;
  readonly value: string;
}

/** Envoy's tag names (well_known_names.cc); label names may arrive with `_` for `.`. */
const HCM_PREFIX = ["envoy.http_conn_manager_prefix", "envoy_http_conn_manager_prefix"];
const TCP_PREFIX = ["envoy.tcp_prefix", "envoy_tcp_prefix"];
const CODE_CLASS = ["envoy.response_code_class", "envoy_response_code_class"];

/** The full stat name of a tag-extracted traffic counter, or the family name unchanged. */
export function trafficStatNameOf(familyName: string, labels: readonly TrafficLabel[]): string {
  const get = (names: readonly string[]) => labels.find((l) => names.includes(l.name) && l.value !== "")?.value;
  if (familyName === "http.downstream_rq_completed" || familyName === "http.downstream_rq_xx") {
    const prefix = get(HCM_PREFIX);
    if (!prefix) return familyName;
    if (familyName === "http.downstream_rq_completed") return `http.${prefix}.downstream_rq_completed`;
    const cls = get(CODE_CLASS);
    return cls ? `http.${prefix}.downstream_rq_${cls}xx` : familyName;
  }
  if (familyName === "tcp.downstream_cx_total") {
    const prefix = get(TCP_PREFIX);
    return prefix ? `tcp.${prefix}.downstream_cx_total` : familyName;
  }
  return familyName;
}
