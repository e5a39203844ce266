/**
 * One synthetic HTTP request through a listener's HttpConnectionManager, the
 * way Envoy's filter manager drives the HTTP wasm filter (proxy-wasm
 * callbacks through the project's host; docs/ENVOY.md "What Envoy does when a
 * running module crashes"):
 * - decode path in filter order: on_request_headers, then on_request_body;
 *   a local reply from the module (proxy_send_local_response) ends it;
 * - a trap, or a filter that fails closed, answers 503 with response code
 *   details `wasm_fail_stream`; an ECDS filter without config answers 500
 *   (Envoy's MissingConfigFilter);
 * - the router looks the route up (404 `route_not_found`, 503
 *   `cluster_not_found`); the upstream is simulated and answers 200;
 * - encode path in reverse order: on_response_headers, on_response_body;
 * - then every context ends with on_done, on_log, on_delete.
 * A filter that stops iteration and never resumes would wait for Envoy's
 * stream idle timeout; here it is answered at once with 408
 * `stream_idle_timeout`.
 */
import { FilterDataStatus, FilterHeadersStatus } from "../../wasm/abi/enums";
import { type HeaderPair, HeaderMap, type HttpContext, type LocalResponse } from "../../wasm/host";
import type { ListenerSpec } from "../config/listener-spec";
import { routeRequest } from "../config/route-table";
import type { WasmPlugin } from "../wasm/wasm-plugin";
import { type ChainEnvironment, resolveSlot } from "./chain-env";

export interface HttpRequestInput {
  readonly method?: string;
  readonly path?: string;
  readonly authority?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

export interface HttpOutcome {
  readonly listener: string;
  readonly status: number;
  /** Envoy's response code details: via_upstream, wasm_fail_stream, route_not_found, ... */
  readonly details: string;
  /** The request headers as they left the filter chain (undefined if it never reached the router). */
  readonly upstreamHeaders: readonly HeaderPair[] | undefined;
  readonly responseHeaders: readonly HeaderPair[];
  /** Envoy's response flags (short names: NR, SI, NFCF, NC) the stream ended with. */
  readonly responseFlags: readonly string[];
}

interface Reply {
  status: number;
  details: string;
  headers: HeaderPair[];
  flags?: string[];
}

const encoder = new TextEncoder();
const RESPONSE_BODY = encoder.encode("ok\n");

function localReply(local: LocalResponse): Reply {
  return { status: local.status, details: local.details, headers: [[":status", String(local.status)], ...local.headers] };
}

function reply(status: number, details: string, extra: HeaderPair[] = [], flags: string[] = []): Reply {
  return { status, details, headers: [[":status", String(status)], ...extra], flags };
}

export function runHttpRequest(listener: ListenerSpec, input: HttpRequestInput, env: ChainEnvironment): HttpOutcome {
  const http = listener.http;
  if (!http) throw new Error(`listener ${listener.name} has no HttpConnectionManager`);
  const body = typeof input.body === "string" ? encoder.encode(input.body) : (input.body ?? new Uint8Array(0));
  const path = input.path ?? "/";
  const authority = input.authority ?? "sim.local";
  const request = HeaderMap.from([
    [":method", input.method ?? (body.length > 0 ? "POST" : "GET")],
    [":path", path],
    [":authority", authority],
    [":scheme", "http"],
    ...Object.entries(input.headers ?? {}),
  ]);
  const active: { plugin: WasmPlugin; ctx: HttpContext }[] = [];
  const failStream = () => reply(503, "wasm_fail_stream");
  let result: Reply | undefined;
  let upstreamHeaders: HeaderPair[] | undefined;

  for (const slot of http.filters) {
    if (slot.kind === "terminal") break;
    const plugin = resolveSlot("http", slot, env);
    if (plugin === "missing") {
      // Envoy's MissingConfigFilter: 500 with the NoFilterConfigFound flag.
      result = reply(500, "", [], ["NFCF"]);
      break;
    }
    if (!plugin) continue;
    const gate = plugin.gate();
    if (gate.kind === "skip") continue;
    if (gate.kind === "fail") {
      result = failStream();
      break;
    }
    let ctx: HttpContext | undefined;
    try {
      ctx = gate.vm.createHttpContext();
      active.push({ plugin, ctx });
      const status = ctx.onRequestHeaders(request, body.length === 0);
      let stopped = status !== FilterHeadersStatus.Continue && status !== FilterHeadersStatus.ContinueAndEndStream;
      // Stopping on headers waits for the body; the body callback's answer decides whether iteration resumes.
      if (!ctx.localResponse && body.length > 0) stopped = ctx.onRequestBody(body, true) !== FilterDataStatus.Continue;
      const local = ctx.localResponse;
      if (local) {
        result = localReply(local);
        break;
      }
      if (stopped) {
        result = reply(408, "stream_idle_timeout", [], ["SI"]);
        break;
      }
    } catch {
      result = failStream();
      break;
    }
  }

  if (!result) {
    upstreamHeaders = request.pairs();
    const config = http.rds ? env.routes.get(http.rds.name) : http.routeConfig;
    const decision = routeRequest(config, authority, path);
    if (decision.kind === "none") result = reply(404, "route_not_found", [], ["NR"]);
    else if (decision.kind === "direct") result = reply(decision.status, "direct_response");
    else if (decision.kind === "redirect") result = reply(301, "direct_response");
    else if (!env.clusters.has(decision.cluster)) result = reply(503, "cluster_not_found", [], ["NC"]);
    else {
      env.stats.inc(`cluster.${decision.cluster}.upstream_rq_total`);
      env.stats.inc(`cluster.${decision.cluster}.upstream_rq_2xx`);
      result = reply(200, "via_upstream", [["content-type", "text/plain"]]);
    }
  }

  const response = HeaderMap.from(result.headers);
  let final: Reply = result;
  for (const { ctx } of [...active].reverse()) {
    const before = ctx.localResponse;
    try {
      ctx.onResponseHeaders(response, final.details !== "via_upstream");
      if (final.details === "via_upstream") ctx.onResponseBody(RESPONSE_BODY, true);
      const local = ctx.localResponse;
      if (local && local !== before) {
        final = localReply(local);
        break;
      }
    } catch {
      final = failStream();
      break;
    }
  }
  for (const { ctx } of active) {
    try {
      ctx.finish();
    } catch {
      // A trap after the response fails the VM for later streams only.
    }
  }
  record(env, listener, http.statPrefix, final.status);
  return {
    listener: listener.name,
    status: final.status,
    details: final.details,
    upstreamHeaders,
    responseHeaders: final === result ? response.pairs() : final.headers,
    responseFlags: final.flags ?? [],
  };
}

function record(env: ChainEnvironment, listener: ListenerSpec, statPrefix: string, status: number): void {
  const p = `http.${statPrefix}.`;
  env.stats.inc(`${listener.statScope}downstream_cx_total`);
  env.stats.inc(`${p}downstream_cx_total`);
  env.stats.inc(`${p}downstream_rq_total`);
  env.stats.inc(`${p}downstream_rq_${Math.floor(status / 100)}xx`);
  env.stats.inc(`${p}downstream_rq_completed`);
}
