/**
 * A small client of the OCI distribution API (GET /v2/<repo>/manifests/<ref>,
 * GET /v2/<repo>/blobs/<digest>) over the module fetch guard (guarded-get.ts:
 * SSRF rules, https only unless insecure, redirects re-vetted, connect
 * timeout). Authentication follows the registry's 401 challenge: Basic with
 * the pullSecret's credentials, or the Docker token flow — ask the challenge's
 * realm for a token for `repository:<repo>:pull` (with the credentials, when
 * there are any) and retry with it as a Bearer token
 * (distribution docs/spec/auth/token.md). Every body is read under a cap.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { ModuleError, errorMessage } from "../../errors";
import type { Clock } from "../../time/clock";
import type { HostResolver } from "../fetch-guard";
import { guardedGet } from "../guarded-get";
import type { Credentials } from "./pull-secret";
import type { OciReference } from "../../vocabulary/oci-reference";
import { parseChallenge } from "./www-authenticate";

export interface RegistryTransport {
  /** The filter's `insecure: true`: try https, then plain http (as Docker does for an insecure registry). */
  readonly insecure: boolean;
  /** PEM roots for the registry's https instead of Node's (embedding, tests). */
  readonly ca?: string;
  readonly allowPrivateFetch: boolean;
  readonly allowAddresses?: readonly string[];
  readonly resolver?: HostResolver;
  readonly clock: Clock;
  readonly connectTimeoutMs: number;
  /** Per request: connect, headers and body. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface RegistryResponse {
  readonly body: Buffer;
  readonly headers: IncomingHttpHeaders;
}

const MAX_ERROR_BODY = 64 * 1024;
const MAX_TOKEN_BODY = 1024 * 1024;

export class RegistryClient {
  #scheme: "https:" | "http:" | undefined;
  #authorization: string | undefined;

  constructor(
    private readonly ref: OciReference,
    private readonly credentials: Credentials | undefined,
    private readonly t: RegistryTransport,
  ) {}

  /** GETs `/v2/<repository>/<path>`; `what` names the object in errors ("manifest v1", "blob sha256:..."). */
  async get(path: string, accept: string | undefined, maxBytes: number, what: string): Promise<RegistryResponse> {
    const response = await this.#call("GET", path, accept, what);
    try {
      return { body: await readBounded(response, maxBytes, (size) => this.#tooLarge(what, size, maxBytes)), headers: response.headers };
    } catch (err) {
      // A body cut short or timed out: say which object, from which registry.
      if (err instanceof ModuleError) throw err;
      throw this.#error(`${what}: ${errorMessage(err)}`, err);
    }
  }

  /** HEADs `/v2/<repository>/<path>`: the headers only (a manifest's digest without a GET, which Docker Hub counts against pull limits). */
  async head(path: string, accept: string | undefined, what: string): Promise<IncomingHttpHeaders> {
    const response = await this.#call("HEAD", path, accept, what);
    response.resume();
    return response.headers;
  }

  async #call(method: "GET" | "HEAD", path: string, accept: string | undefined, what: string): Promise<IncomingMessage> {
    const headers: Record<string, string> = accept === undefined ? {} : { accept };
    const api = `/v2/${this.ref.repository}/${path}`;
    let response = await this.#send(api, headers, method);
    if (response.statusCode === 401) {
      const challenge = response.headers["www-authenticate"];
      response.destroy();
      await this.#authenticate(typeof challenge === "string" ? challenge : undefined);
      response = await this.#send(api, headers, method);
      if (response.statusCode === 401) {
        response.destroy();
        throw this.#error(`HTTP 401 Unauthorized for ${what}: the registry refused the ${this.credentials ? "pullSecret's credentials" : "anonymous token"}`);
      }
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      const detail = await registryErrorText(response);
      const missing = status === 404 ? ` (${what} not found in ${this.ref.registry}/${this.ref.repository})` : "";
      throw this.#error(`HTTP ${status} ${response.statusMessage ?? ""}`.trim() + `${missing}${detail ? `: ${detail}` : ""}`);
    }
    return response;
  }

  async #authenticate(header: string | undefined): Promise<void> {
    const challenge = parseChallenge(header);
    const noCredentials = "no credentials for this registry: set pullSecret to a docker config.json with an entry for " + this.ref.registry;
    if (challenge?.scheme === "basic") {
      if (!this.credentials) throw this.#error(`HTTP 401 Unauthorized: the registry asks for basic auth and there are ${noCredentials}`);
      this.#authorization = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString("base64")}`;
      return;
    }
    if (challenge?.scheme !== "bearer") {
      throw this.#error(`HTTP 401 Unauthorized with ${challenge ? `an unsupported ${challenge.scheme} challenge` : "no WWW-Authenticate challenge"}`);
    }
    const realm = challenge.params.realm;
    let url: URL;
    try {
      url = new URL(realm ?? "");
    } catch {
      throw this.#error(`HTTP 401 Unauthorized: the bearer challenge's realm ${JSON.stringify(realm)} is not a URL`);
    }
    if (challenge.params.service !== undefined) url.searchParams.set("service", challenge.params.service);
    url.searchParams.set("scope", challenge.params.scope ?? `repository:${this.ref.repository}:pull`);
    const headers: Record<string, string> = {};
    if (this.credentials) headers.authorization = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString("base64")}`;
    const response = await this.#request(url, headers, `token service ${url.origin}${url.pathname}`);
    const status = response.statusCode ?? 0;
    if (status !== 200) {
      const detail = await registryErrorText(response);
      const why = status === 401 || status === 403 ? (this.credentials ? "refused the pullSecret's credentials" : `refused an anonymous token; ${noCredentials}`) : "failed";
      throw this.#error(`token service ${url.origin}${url.pathname} ${why} (HTTP ${status})${detail ? `: ${detail}` : ""}`);
    }
    const body = await readBounded(response, MAX_TOKEN_BODY, () => this.#error(`token service ${url.origin}${url.pathname}: response over ${MAX_TOKEN_BODY} bytes`));
    let token: unknown;
    try {
      const json = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
      token = json.token ?? json.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== "string" || token === "") throw this.#error(`token service ${url.origin}${url.pathname}: expected JSON with a token`);
    this.#authorization = `Bearer ${token}`;
  }

  async #send(api: string, headers: Readonly<Record<string, string>>, method: "GET" | "HEAD"): Promise<IncomingMessage> {
    const all = this.#authorization ? { ...headers, authorization: this.#authorization } : headers;
    if (this.#scheme === undefined && this.t.insecure) {
      try {
        const r = await this.#request(new URL(`https://${this.ref.registry}${api}`), all, this.ref.registry, true, method);
        this.#scheme = "https:";
        return r;
      } catch (err) {
        if (err instanceof ModuleError || this.t.signal?.aborted) throw err;
        this.#scheme = "http:";
      }
    }
    this.#scheme ??= "https:";
    return this.#request(new URL(`${this.#scheme}//${this.ref.registry}${api}`), all, this.ref.registry, false, method);
  }

  async #request(url: URL, headers: Readonly<Record<string, string>>, peer: string, raw = false, method: "GET" | "HEAD" = "GET"): Promise<IncomingMessage> {
    const timeout = AbortSignal.timeout(this.t.timeoutMs);
    const signal = this.t.signal ? AbortSignal.any([this.t.signal, timeout]) : timeout;
    try {
      const response = await guardedGet(
        url,
        {
          insecure: this.t.insecure,
          allowPrivateFetch: this.t.allowPrivateFetch,
          connectTimeoutMs: this.t.connectTimeoutMs,
          clock: this.t.clock,
          ...(this.t.ca !== undefined && { ca: this.t.ca }),
          ...(this.t.allowAddresses !== undefined && { allowAddresses: this.t.allowAddresses }),
          ...(this.t.resolver !== undefined && { resolver: this.t.resolver }),
        },
        signal,
        headers,
        method,
      );
      // The total timeout covers the body too.
      const onAbort = () => response.destroy(new Error(`timed out after ${this.t.timeoutMs} ms`));
      signal.addEventListener("abort", onAbort, { once: true });
      response.once("close", () => signal.removeEventListener("abort", onAbort));
      return response;
    } catch (err) {
      if (err instanceof ModuleError) throw new ModuleError(err.code, `${this.ref.text}: ${err.message}`, { cause: err });
      if (raw) throw err;
      const why = timeout.aborted ? `timed out after ${this.t.timeoutMs} ms` : errorMessage((err as { cause?: unknown }).cause ?? err);
      throw this.#error(`${peer} unreachable: ${why}`, err);
    }
  }

  #tooLarge(what: string, size: number | undefined, max: number): ModuleError {
    return new ModuleError("MODULE_TOO_LARGE", `${this.ref.text}: ${what} is ${size === undefined ? "over" : `${size} bytes, over`} the ${max}-byte limit`);
  }

  #error(message: string, cause?: unknown): ModuleError {
    return new ModuleError("MODULE_FETCH_FAILED", `${this.ref.text}: ${message}`, { cause });
  }
}

/** Reads a body of at most `max` bytes; `tooLarge` makes the error (with the declared size when known). */
export async function readBounded(response: IncomingMessage, max: number, tooLarge: (size: number | undefined) => Error): Promise<Buffer> {
  const declared = Number(response.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) {
    response.destroy();
    throw tooLarge(declared);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > max) {
      response.destroy();
      throw tooLarge(undefined);
    }
    chunks.push(chunk);
  }
  if (!response.complete) throw new Error("connection closed before the body ended");
  return Buffer.concat(chunks, size);
}

/** The distribution API's error body ({"errors":[{"code","message"}]}) as one line, or "". */
async function registryErrorText(response: IncomingMessage): Promise<string> {
  try {
    const body = await readBounded(response, MAX_ERROR_BODY, () => new Error("too large"));
    const json = JSON.parse(body.toString("utf8")) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    return (json.errors ?? []).map((e) => [e.code, e.message].filter((x) => typeof x === "string").join(" ")).join("; ");
  } catch {
    response.destroy();
    return "";
  }
}
