/**
 * Serves stored modules over HTTP so Envoys can load them as remote code
 * (AsyncDataSource.remote: http_uri + sha256) from the control plane itself,
 * with no route to wherever the module was built or first fetched.
 *
 * Only `/modules/<64 lowercase hex>.wasm` is served, looked up by hash in the
 * store: nothing in the URL ever becomes a filesystem path, so no request
 * (`..`, percent-encoding, uppercase hex, extra segments) can reach anything
 * else. Modules are immutable, so responses carry a strong ETag and a
 * year-long immutable Cache-Control.
 *
 * With `tls` (`--modules-tls`) it serves https on the gRPC port's
 * certificate and follows its rotation, so module bytes are private on the
 * wire; integrity stays with the sha256 Envoy checks (SECURITY.md).
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { ModuleError, errorMessage } from "../errors";
import type { Logger } from "../logger";
import { type HostPort, formatHostPort, parseHostPort } from "../net/host-port";
import { listenHttp } from "../net/http-listen";
import type { ModuleStore } from "./module-store";
import { isSha256Hex } from "../vocabulary/sha256";

/** Where the module server listens unless `--modules-address` says otherwise. */
export const DEFAULT_MODULES_ADDRESS = "127.0.0.1:18002";

export interface ModuleServerOptions {
  /** Only `get` is used, so any read-only view of a store will do. */
  readonly store: Pick<ModuleStore, "get">;
  /** Defaults to the host of DEFAULT_MODULES_ADDRESS. */
  readonly host?: string;
  /** Defaults to the port of DEFAULT_MODULES_ADDRESS; 0 picks a free port. */
  readonly port?: number;
  readonly logger: Logger;
  /**
   * Told of every GET for a module: when it arrives (`started`) and when a
   * whole 200 response has been written (`served`), with the URI's `repush`
   * query, so the control plane notices an Envoy fetching after a cache-miss
   * NACK (docs/HEALTH.md, "Remote code over ECDS"). Must not throw.
   */
  readonly onFetch?: (fetch: ModuleFetch) => void;
  /** Serve https with this certificate, following its rotation (net/grpc-tls.ts CertificateFiles). */
  readonly tls?: ModuleServerTls;
}

/** Where the module server's certificate comes from: the one in use, and its changes. */
export interface ModuleServerTls {
  readonly identity: { readonly cert: Buffer; readonly key: Buffer };
  addIdentityCertificateListener(listener: (update: { certificate: Buffer; privateKey: Buffer } | null) => void): void;
  removeIdentityCertificateListener(listener: (update: { certificate: Buffer; privateKey: Buffer } | null) => void): void;
}

/** A GET for a module, as onFetch reports it. */
export interface ModuleFetch {
  readonly sha256: string;
  /** The `repush` query of the URI (0 without one): which push of the config started the fetch. */
  readonly repush: number;
  readonly phase: "started" | "served";
}

export interface ModuleServer {
  /** The address actually bound (the real port when 0 was asked for). */
  readonly address: HostPort;
  /** The http_uri an Envoy should fetch the module from. */
  url(sha256: string): string;
  /** Stops listening and drops open connections, keep-alive ones included. */
  close(): Promise<void>;
}

const MODULE_PATH = /^\/modules\/([0-9a-f]{64})\.wasm$/;
const ALLOW = "GET, HEAD";

export async function startModuleServer(options: ModuleServerOptions): Promise<ModuleServer> {
  const defaults = parseHostPort(DEFAULT_MODULES_ADDRESS, "DEFAULT_MODULES_ADDRESS");
  const host = options.host ?? defaults.host;
  const port = options.port ?? defaults.port;
  const logger = options.logger;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    try {
      handle(req, res, options.store, options.onFetch);
    } catch (err) {
      logger.error("module server request failed", { url: req.url, error: errorMessage(err) });
      if (!res.headersSent) sendText(res, req, 500, "internal error\n");
      else res.destroy();
    }
    logger.debug("module request", { method: req.method, url: req.url, status: res.statusCode });
  };
  const tls = options.tls;
  const server = tls ? createHttpsServer({ ...tls.identity, minVersion: "TLSv1.2" }, onRequest) : createServer(onRequest);
  const onIdentity = (update: { certificate: Buffer; privateKey: Buffer } | null) => {
    if (update && "setSecureContext" in server) server.setSecureContext({ cert: update.certificate, key: update.privateKey, minVersion: "TLSv1.2" });
  };
  tls?.addIdentityCertificateListener(onIdentity);

  const listening = await listenHttp(server, "module server", { host, port }, logger).catch((err: unknown) => {
    tls?.removeIdentityCertificateListener(onIdentity);
    throw err;
  });
  const address = listening.address;
  const base = `${tls ? "https" : "http"}://${formatHostPort(address)}`;
  return {
    address,
    url(sha256: string): string {
      if (!isSha256Hex(sha256)) {
        throw new ModuleError("MODULE_INVALID", `module url: expected a lowercase hex sha256, got ${JSON.stringify(sha256)}`);
      }
      return `${base}/modules/${sha256}.wasm`;
    },
    close: () => {
      tls?.removeIdentityCertificateListener(onIdentity);
      return listening.close();
    },
  };
}

/** The `repush` query parameter (resources/wasm-filter.ts REPUSH_QUERY) of a request target: a small whole number, else 0. */
function repushOf(query: string): number {
  const value = new URLSearchParams(query).get("repush");
  return value !== null && /^[0-9]{1,4}$/.test(value) ? Number(value) : 0;
}

function handle(req: IncomingMessage, res: ServerResponse, store: Pick<ModuleStore, "get">, onFetch: ModuleServerOptions["onFetch"]): void {
  // Match the raw request target, never a decoded or normalised one, so
  // `%2e%2e` and `..` stay literal and fail the pattern. The query is ignored.
  const target = req.url ?? "";
  const queryAt = target.indexOf("?");
  const path = queryAt < 0 ? target : target.slice(0, queryAt);

  if (path === "/healthz") {
    if (!allowed(req, res)) return;
    sendText(res, req, 200, "ok\n");
    return;
  }

  const sha256 = MODULE_PATH.exec(path)?.[1];
  const bytes = sha256 === undefined ? undefined : store.get(sha256);
  if (sha256 === undefined || bytes === undefined) {
    sendText(res, req, 404, "not found\n");
    return;
  }
  if (!allowed(req, res)) return;

  if (onFetch && req.method === "GET") {
    const fetch = { sha256, repush: repushOf(queryAt < 0 ? "" : target.slice(queryAt + 1)) };
    onFetch({ ...fetch, phase: "started" });
    res.on("finish", () => {
      if (res.statusCode === 200) onFetch({ ...fetch, phase: "served" });
    });
  }

  const etag = `"${sha256}"`;
  res.setHeader("ETag", etag);
  res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
  res.setHeader("Accept-Ranges", "bytes");
  res.setHeader("Content-Type", "application/wasm");
  res.setHeader("X-Content-Type-Options", "nosniff");

  // RFC 9110 §13.2.2: If-None-Match is evaluated before Range.
  if (noneMatch(req.headers["if-none-match"], sha256)) {
    res.statusCode = 304;
    res.end();
    return;
  }

  const range = rangeApplies(req, etag) ? parseRange(req.headers.range, bytes.length) : undefined;
  if (range === "unsatisfiable") {
    res.statusCode = 416;
    res.setHeader("Content-Range", `bytes */${bytes.length}`);
    sendText(res, req, 416, "range not satisfiable\n");
    return;
  }

  let body = bytes;
  if (range === undefined) {
    res.statusCode = 200;
  } else {
    res.statusCode = 206;
    res.setHeader("Content-Range", `bytes ${range.start}-${range.end}/${bytes.length}`);
    body = bytes.subarray(range.start, range.end + 1);
  }
  res.setHeader("Content-Length", body.length);
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Answers 405 with Allow for anything but GET and HEAD. */
function allowed(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === "GET" || req.method === "HEAD") return true;
  res.setHeader("Allow", ALLOW);
  sendText(res, req, 405, "method not allowed\n");
  return false;
}

function sendText(res: ServerResponse, req: IncomingMessage, status: number, text: string): void {
  const body = Buffer.from(text, "utf8");
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Content-Length", body.length);
  res.end(req.method === "HEAD" ? undefined : body);
}

/** If-None-Match uses weak comparison (RFC 9110 §13.1.2), so W/"x" matches too. */
function noneMatch(header: string | undefined, sha256: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === `"${sha256}"` || t === `W/"${sha256}"`;
  });
}

/**
 * If-Range (RFC 9110 §13.1.5) needs a strong match; a date never matches
 * because no Last-Modified is sent. A mismatch means "send it all".
 */
function rangeApplies(req: IncomingMessage, etag: string): boolean {
  const ifRange = req.headers["if-range"];
  return typeof ifRange !== "string" || ifRange.trim() === etag;
}

interface ByteRange {
  readonly start: number;
  /** Inclusive, as in Content-Range. */
  readonly end: number;
}

/**
 * One byte range, "unsatisfiable", or undefined for "ignore the header and
 * send 200": a missing, malformed or non-bytes Range, and a multi-range
 * request, which RFC 9110 §14.2 lets a server answer with the whole body
 * instead of multipart/byteranges.
 */
function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | undefined {
  if (header === undefined) return undefined;
  const eq = header.indexOf("=");
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== "bytes") return undefined;
  const specs = header
    .slice(eq + 1)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (specs.length !== 1) return undefined;
  const match = /^(\d*)-(\d*)$/.exec(specs[0] ?? "");
  if (match === null) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;

  if (first === "") {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return undefined;
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { start, end };
}

