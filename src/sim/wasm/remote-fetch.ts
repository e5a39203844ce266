/**
 * Fetching remote Wasm code the way Envoy's RemoteDataFetcher and
 * RemoteAsyncDataProvider do (source/common/config/remote_data_fetcher.cc,
 * datasource.h; docs/ENVOY.md "Wasm filter configuration"):
 * - the request goes to http_uri.cluster, which must already exist (here:
 *   its first endpoint from CDS/EDS), with the URI's path and authority, and
 *   http_uri.timeout per attempt;
 * - only a 200 with a non-empty body whose lowercase hex sha256 equals
 *   RemoteDataSource.sha256 succeeds; anything else is a failure;
 * - failures (also a hash mismatch) are retried retry_policy.num_retries
 *   times (default 1) after a jittered exponential backoff (base 1 s, max
 *   10 x base); after the last one the result is empty code;
 * - a cluster with an UpstreamTlsContext is reached over TLS, verified only
 *   as its validation context says (sim/config/upstream-tls.ts).
 */
import { type IncomingMessage, request } from "node:http";
import { request as httpsRequest } from "node:https";
import { type PeerCertificate, checkServerIdentity } from "node:tls";
import { sha256Hex } from "../../vocabulary/sha256";
import { JitteredExponentialBackOff, type Random } from "../backoff";
import type { Clock, TimerHandle } from "../../time/clock";
import type { Endpoint } from "../config/proto-util";
import type { UpstreamTls } from "../config/upstream-tls";
import type { RemoteCode } from "./plugin-spec";

export type FetchOutcome = { readonly ok: true; readonly body: Uint8Array } | { readonly ok: false; readonly reason: string };

export interface FetchEnvironment {
  readonly clock: Clock;
  readonly random: Random;
  /** The endpoint of a cluster the node knows, or undefined. */
  resolveCluster(name: string): Endpoint | undefined;
}

/** One attempt. Never rejects. */
export function fetchOnce(code: RemoteCode, env: FetchEnvironment): Promise<FetchOutcome> {
  const endpoint = env.resolveCluster(code.cluster);
  if (!endpoint) return Promise.resolve({ ok: false, reason: `fetch remote data failed: cluster ${code.cluster} is not found` });
  let url: URL;
  try {
    url = new URL(code.uri);
  } catch {
    return Promise.resolve({ ok: false, reason: `invalid uri ${code.uri}` });
  }
  return new Promise<FetchOutcome>((resolve) => {
    let timer: TimerHandle | undefined;
    const done = (outcome: FetchOutcome) => {
      timer?.cancel();
      resolve(outcome);
    };
    const options = { host: endpoint.host, port: endpoint.port, method: "GET", path: `${url.pathname}${url.search}`, headers: { host: url.host } };
    const onResponse = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (err) => done({ ok: false, reason: err.message }));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          if (res.statusCode !== 200) return done({ ok: false, reason: `fetch remote data failed: response code ${res.statusCode}` });
          if (body.length === 0) return done({ ok: false, reason: "fetch remote data failed: body is empty" });
          if (sha256Hex(body) !== code.sha256) return done({ ok: false, reason: "fetch remote data: data is invalid" });
          done({ ok: true, body });
        });
    };
    const req = endpoint.tls ? httpsRequest({ ...options, ...tlsOptions(endpoint.tls), agent: false }, onResponse) : request(options, onResponse);
    req.on("error", (err) => done({ ok: false, reason: `fetch remote data failed: ${err.message}` }));
    if (code.timeoutMs > 0) {
      timer = env.clock.setTimeout(() => {
        req.destroy(new Error("timeout"));
      }, code.timeoutMs);
    }
    req.end();
  });
}

/** Node's TLS options for what Envoy's UpstreamTlsContext says: no CA, no verification; names only from SAN matchers. */
function tlsOptions(tls: UpstreamTls) {
  return {
    ...(tls.sni !== "" && { servername: tls.sni }),
    rejectUnauthorized: tls.trustedCa !== undefined,
    ...(tls.trustedCa !== undefined && { ca: tls.trustedCa }),
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined => {
      if (tls.sanMatchers.length === 0) return undefined;
      for (const m of tls.sanMatchers) {
        if ((m.type === "DNS" || m.type === "IP_ADDRESS") && checkServerIdentity(m.exact, cert) === undefined) return undefined;
        if (m.type === "URI" && (cert.subjectaltname ?? "").split(", ").includes(`URI:${m.exact}`)) return undefined;
      }
      return new Error(`upstream certificate does not match any of the SAN matchers (${tls.sanMatchers.map((m) => `${m.type}:${m.exact}`).join(", ")})`);
    },
  };
}

/**
 * Fetches with retries; calls `onDone` once with the code (empty on
 * failure) unless cancelled first.
 */
export function fetchWithRetries(
  code: RemoteCode,
  env: FetchEnvironment,
  onDone: (code: Uint8Array, lastFailure: string | undefined) => void,
): { cancel(): void } {
  const backoff = new JitteredExponentialBackOff(code.backoffBaseMs, code.backoffMaxMs, env.random);
  let retriesLeft = code.retries;
  let cancelled = false;
  let timer: TimerHandle | undefined;
  const attempt = () => {
    const settle = (outcome: FetchOutcome): void => {
      if (cancelled) return;
      if (outcome.ok) onDone(outcome.body, undefined);
      else if (retriesLeft-- <= 0) onDone(new Uint8Array(0), outcome.reason);
      else timer = env.clock.setTimeout(attempt, backoff.nextBackOffMs());
    };
    fetchOnce(code, env).then(settle, (err: unknown) => settle({ ok: false, reason: `fetch remote data failed: ${String(err)}` }));
  };
  attempt();
  return {
    cancel: () => {
      cancelled = true;
      timer?.cancel();
    },
  };
}
