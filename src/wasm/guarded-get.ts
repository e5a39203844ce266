/**
 * One guarded HTTP GET, shared by `url:` fetches (remote-fetch.ts) and OCI
 * registry pulls (oci/): https only unless the filter says `insecure: true`
 * (checked on every hop, redirects included), every hop's host vetted by the
 * SSRF guard and the socket sent to the vetted address, at most
 * MAX_REDIRECTS redirects, and a connect timeout on the injected clock.
 * Credentials never follow a redirect to another origin: registries
 * redirect blob downloads to object storage, which must not see the
 * registry's Authorization header (Docker's client drops it the same way).
 */
import { type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { ModuleError } from "../errors";
import type { Clock } from "../time/clock";
import { type GuardPolicy, vetHost } from "./fetch-guard";

/** Redirects followed per attempt, each re-checked by the SSRF guard. */
export const MAX_REDIRECTS = 5;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface HopPolicy extends GuardPolicy {
  readonly insecure: boolean;
  readonly connectTimeoutMs: number;
  readonly clock: Clock;
  /** PEM roots trusted for https instead of Node's. */
  readonly ca?: string;
}

/**
 * GETs (or HEADs) `start` and returns the first response that is not a
 * redirect. `headers` go to every hop; `authorization` only on the start's origin.
 */
export async function guardedGet(
  start: URL,
  policy: HopPolicy,
  signal: AbortSignal,
  headers: Readonly<Record<string, string>> = {},
  method: "GET" | "HEAD" = "GET",
): Promise<IncomingMessage> {
  let target = start;
  for (let hop = 0; ; hop++) {
    if (target.protocol === "http:" && !policy.insecure) {
      const what = hop === 0 ? "" : ` (redirected to ${target.href})`;
      throw new ModuleError("MODULE_FETCH_FAILED", `${start.href}: plain http refused${what}; expected https, or insecure: true on the filter`);
    }
    const sameOrigin = target.origin === start.origin;
    const sent = sameOrigin ? headers : withoutAuthorization(headers);
    const response = await getOnce(target, policy, signal, sent, method);
    const location = response.headers.location;
    if (!REDIRECTS.has(response.statusCode ?? 0) || location === undefined) return response;
    response.destroy();
    if (hop >= MAX_REDIRECTS) {
      throw new ModuleError("MODULE_FETCH_FAILED", `${start.href}: more than ${MAX_REDIRECTS} redirects`);
    }
    const next = new URL(location, target);
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new ModuleError("MODULE_FETCH_FAILED", `${start.href}: redirected to unsupported scheme "${next.protocol}"`);
    }
    target = next;
  }
}

function withoutAuthorization(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "authorization"));
}

async function getOnce(target: URL, policy: HopPolicy, signal: AbortSignal, headers: Readonly<Record<string, string>>, method: "GET" | "HEAD"): Promise<IncomingMessage> {
  const vetted = await vetHost(target, policy);
  const lookup: LookupFunction = (_hostname, opts, callback) => {
    if (opts.all) callback(null, [{ address: vetted.address, family: vetted.family }]);
    else callback(null, vetted.address, vetted.family);
  };
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<IncomingMessage>((resolve, reject) => {
    // identity: hash the bytes exactly as sent, as Envoy (which asks for no
    // encoding) would receive them. agent: false, so no pooled socket made
    // for another address is reused.
    const tls = policy.ca !== undefined && target.protocol === "https:" ? { ca: policy.ca } : {};
    const req = request(target, { method, signal, lookup, agent: false, headers: { "accept-encoding": "identity", ...headers }, ...tls }, resolve);
    req.on("error", reject);
    // The total timeout bounds the attempt; this one gives up early on a host that never accepts.
    const timer = policy.clock.setTimeout(
      () => req.destroy(new Error(`connect to ${vetted.address} timed out after ${policy.connectTimeoutMs} ms`)),
      policy.connectTimeoutMs,
    );
    req.on("socket", (socket) => {
      if (!socket.connecting) timer.cancel();
      else socket.once("connect", () => timer.cancel());
    });
    req.on("close", () => timer.cancel());
    req.end();
  });
}
