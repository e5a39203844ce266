/**
 * Modules configured by `url:` + `sha256:` are fetched once by the control
 * plane, verified exactly as Envoy would (lowercase hex SHA-256 of the raw
 * body), stored, and then served to Envoys from the module server. Envoys
 * therefore need no cluster or route to the artifact host, and a module that
 * is too big, unreachable or not the promised bytes fails here, at config
 * time, with the URL in the message — not later as a silent fail-closed
 * filter (`wasm_fail_stream`) inside Envoy.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { ModuleError, errorMessage } from "../errors";
import { type Logger, silentLogger } from "../logger";
import { type Clock, realClock } from "../time/clock";
import type { ModuleStore, StoredModule } from "./module-store";
import { isSha256Hex } from "../vocabulary/sha256";
import type { HostResolver } from "./fetch-guard";
import { guardedGet } from "./guarded-get";

/** Default of `server.maxModuleBytes`: the largest module fetched from a `url:` (256 MiB). */
export const DEFAULT_MAX_FETCH_BYTES = 256 * 1024 * 1024;
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_FETCH_RETRIES = 2;
const DEFAULT_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 10_000;
export { MAX_REDIRECTS } from "./guarded-get";

export interface FetchModuleOptions {
  /** Refuse bodies larger than this, counted while streaming (`server.maxModuleBytes`). Default 256 MiB. */
  readonly maxBytes?: number;
  /** The filter's `insecure: true`: plain http allowed, for the URL and its redirects. Default false: https only. */
  readonly insecure?: boolean;
  /** PEM CA certificates trusted for https instead of Node's roots (a private artifact host). Default: Node's roots. */
  readonly ca?: string;
  /** Per connection (each redirect hop connects anew). Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Runs the connect timeout. Default realClock. */
  readonly clock?: Clock;
  /** Per attempt, covering connect, headers and the whole body. Default 30 s. */
  readonly timeoutMs?: number;
  /** Extra attempts after a retryable failure. Default 2. */
  readonly retries?: number;
  /** Base of the exponential backoff between attempts (full jitter). Default 500 ms. */
  readonly backoffMs?: number;
  /** `server.allowPrivateFetch`: fetch from loopback, link-local and private addresses. Default false. */
  readonly allowPrivateFetch?: boolean;
  /** Addresses the SSRF guard lets through although private (embedding, tests). */
  readonly allowAddresses?: readonly string[];
  /** How hostnames become addresses; default dns.lookup with all: true. */
  readonly resolver?: HostResolver;
  readonly logger?: Logger;
  /** Aborts the fetch and any pending retry (shutdown). */
  readonly signal?: AbortSignal;
}

type Attempt = { readonly bytes: Buffer } | { readonly error: ModuleError; readonly retry: boolean };

/**
 * Fetches `url` and returns its body if it hashes to `expectedSha256`.
 * Network errors, timeouts, 5xx, 408 and 429 are retried with backoff; other
 * statuses, an oversized body and a hash mismatch are not, since another
 * attempt would get the same answer. Throws ModuleError MODULE_FETCH_FAILED,
 * MODULE_TOO_LARGE or MODULE_HASH_MISMATCH; every message starts with the URL.
 */
export async function fetchModule(url: string, expectedSha256: string, options: FetchModuleOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FETCH_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const retries = options.retries ?? DEFAULT_FETCH_RETRIES;
  const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const logger = options.logger ?? silentLogger;
  checkRequest(url, expectedSha256);

  for (let attempt = 1; ; attempt++) {
    const result = await fetchOnce(url, expectedSha256, options, maxBytes, timeoutMs);
    if ("bytes" in result) {
      logger.debug("module fetched", { url, sha256: expectedSha256, size: result.bytes.length, attempt });
      return result.bytes;
    }
    if (!result.retry || attempt > retries) {
      if (attempt === 1) throw result.error;
      throw new ModuleError(result.error.code, `${result.error.message} (after ${attempt} attempts)`, {
        cause: result.error.cause,
      });
    }
    const delayMs = Math.round(Math.random() * Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** (attempt - 1)));
    logger.warn("module fetch failed; retrying", { url, attempt, delayMs, error: result.error.message });
    try {
      await sleep(delayMs, undefined, { signal: options.signal });
    } catch (err) {
      throw new ModuleError("MODULE_FETCH_FAILED", `${url}: aborted`, { cause: err });
    }
  }
}

/**
 * Returns modules from the store when present, otherwise fetches, verifies
 * and stores them. Content addressing makes the hash the whole cache key: a
 * module already held under that sha256 is those bytes, whatever URL it came
 * from. Concurrent requests for one module share one fetch.
 */
export class RemoteModuleResolver {
  readonly #store: Pick<ModuleStore, "get" | "put">;
  readonly #options: FetchModuleOptions;
  readonly #inFlight = new Map<string, Promise<StoredModule>>();

  constructor(store: Pick<ModuleStore, "get" | "put">, options: FetchModuleOptions = {}) {
    this.#store = store;
    this.#options = options;
  }

  /** `policy` overrides the constructor's options for this module (server and filter fields from the config). */
  async resolve(url: string, sha256: string, policy: Pick<FetchModuleOptions, "allowPrivateFetch" | "insecure" | "maxBytes"> = {}): Promise<StoredModule> {
    checkRequest(url, sha256);
    const held = this.#store.get(sha256);
    if (held !== undefined) return { sha256, size: held.length };

    // Keyed by URL too, so a failure is reported against the URL that failed.
    const key = `${sha256} ${url}`;
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running;
    const job = fetchModule(url, sha256, { ...this.#options, ...policy }).then((bytes) => this.#store.put(bytes));
    this.#inFlight.set(key, job);
    try {
      return await job;
    } finally {
      this.#inFlight.delete(key);
    }
  }
}

function checkRequest(url: string, sha256: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new ModuleError("MODULE_FETCH_FAILED", `${url}: not a valid URL`, { cause: err });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ModuleError("MODULE_FETCH_FAILED", `${url}: unsupported scheme "${parsed.protocol}"; expected http or https`);
  }
  if (!isSha256Hex(sha256)) {
    // Envoy compares the hex digest as a plain string, so other spellings can never match.
    throw new ModuleError("MODULE_INVALID", `${url}: sha256 must be 64 lowercase hex digits, got ${JSON.stringify(sha256)}`);
  }
}

async function fetchOnce(
  url: string,
  expectedSha256: string,
  options: FetchModuleOptions,
  maxBytes: number,
  timeoutMs: number,
): Promise<Attempt> {
  const outer = options.signal;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = outer === undefined ? timeout : AbortSignal.any([outer, timeout]);
  const interrupted = (err: unknown): Attempt => {
    if (outer?.aborted) return fatal("MODULE_FETCH_FAILED", `${url}: aborted`, err);
    if (timeout.aborted) return retryable(`${url}: timed out after ${timeoutMs} ms`, err);
    if (err instanceof ModuleError) return { error: err, retry: false };
    return retryable(`${url}: ${networkMessage(err)}`, err);
  };
  const policy = {
    allowPrivateFetch: options.allowPrivateFetch ?? false,
    ...(options.allowAddresses !== undefined && { allowAddresses: options.allowAddresses }),
    ...(options.resolver !== undefined && { resolver: options.resolver }),
  };

  let response: IncomingMessage;
  try {
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    response = await guardedGet(new URL(url), {
      ...policy,
      insecure: options.insecure ?? false,
      connectTimeoutMs,
      clock: options.clock ?? realClock,
      ...(options.ca !== undefined && { ca: options.ca }),
    }, signal);
  } catch (err) {
    return interrupted(err);
  }
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) {
    response.destroy();
    const text = `${status} ${response.statusMessage ?? ""}`.trim();
    const transient = status >= 500 || status === 408 || status === 429;
    return { error: new ModuleError("MODULE_FETCH_FAILED", `${url}: HTTP ${text}`), retry: transient };
  }

  // Content-Length counts encoded bytes, so it only bounds the module when
  // the body is not content-encoded.
  const declared = response.headers["content-length"];
  const encoding = response.headers["content-encoding"];
  if (declared !== undefined && (encoding === undefined || encoding === "identity") && Number(declared) > maxBytes) {
    response.destroy();
    return fatal("MODULE_TOO_LARGE", `${url}: module is ${declared} bytes, over the ${maxBytes}-byte limit`);
  }

  const hash = createHash("sha256");
  const chunks: Buffer[] = [];
  let size = 0;
  const onAbort = () => response.destroy(new Error("aborted"));
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        response.destroy();
        return fatal("MODULE_TOO_LARGE", `${url}: module is over the ${maxBytes}-byte limit`);
      }
      hash.update(chunk);
      chunks.push(chunk);
    }
    if (!response.complete) return interrupted(new Error("connection closed before the body ended"));
  } catch (err) {
    return interrupted(err);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }

  const actual = hash.digest("hex");
  if (actual !== expectedSha256) {
    return fatal("MODULE_HASH_MISMATCH", `${url}: sha256 mismatch: expected ${expectedSha256}, got ${actual}`);
  }
  return { bytes: Buffer.concat(chunks, size) };
}

function fatal(code: "MODULE_FETCH_FAILED" | "MODULE_TOO_LARGE" | "MODULE_HASH_MISMATCH", message: string, cause?: unknown): Attempt {
  return { error: new ModuleError(code, message, { cause }), retry: false };
}

function retryable(message: string, cause: unknown): Attempt {
  return { error: new ModuleError("MODULE_FETCH_FAILED", message, { cause }), retry: true };
}

/** undici reports "fetch failed" and hides the useful part (ECONNREFUSED, DNS, TLS) in `cause`. */
function networkMessage(err: unknown): string {
  if (err instanceof Error && err.cause !== undefined) return errorMessage(err.cause);
  return errorMessage(err);
}
