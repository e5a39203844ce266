/**
 * The admin HTTP API (default 127.0.0.1:18003): JSON under /v1 for
 * operators and scripts. Routes are registered by the parts that own the
 * data; this file only does HTTP: routing, query parsing, JSON, errors.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { runInBackground } from "../background";
import { errorMessage } from "../errors";
import type { Logger } from "../logger";
import type { HostPort } from "../net/host-port";
import { type ListeningHttp, listenHttp } from "../net/http-listen";
import { type AdminAccess, AdminGate, assertAdminExposure } from "./admin-auth";
import { AdminHttpError } from "./admin-error";
import { decodeComponent, parseTarget, readJsonBody } from "./request-input";

export { AdminHttpError } from "./admin-error";

export const DEFAULT_ADMIN_ADDRESS = "127.0.0.1:18003";

export interface AdminRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

export type AdminResponse = {
  readonly status?: number;
  readonly json?: unknown;
  readonly text?: string | Uint8Array;
  readonly contentType?: string;
  /** More response headers (the console's security headers). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Takes over the response (a stream of server-sent events): it writes the head and ends it itself. */
  readonly stream?: (req: IncomingMessage, res: ServerResponse) => void;
};

export type AdminHandler = (req: AdminRequest) => AdminResponse | Promise<AdminResponse>;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly keys: readonly string[];
  readonly handler: AdminHandler;
  /** Served without the token even with `--admin-auth reads`: static files holding no data (the console's page and script). */
  readonly public: boolean;
}

export class AdminRouter {
  private readonly routes: Route[] = [];

  /** `path` may hold `:name` segments, e.g. `/v1/filters/:name/quarantine/clear`. */
  add(method: "GET" | "POST" | "DELETE", path: string, handler: AdminHandler, options: { readonly public?: boolean } = {}): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/:([a-zA-Z]+)/g, (_, k: string) => {
        keys.push(k);
        return "([^/]+)";
      })}$`,
    );
    this.routes.push({ method, pattern, keys, handler, public: options.public === true && method === "GET" });
    return this;
  }

  paths(): string[] {
    return this.routes.map((r) => `${r.method} ${r.pattern.source.slice(1, -1).replace(/\(\[\^\/\]\+\)/g, ":param")}`);
  }

  /** Whether a GET or HEAD of `rawUrl` is a public route (no token needed to read it). */
  isPublic(method: string, rawUrl: string): boolean {
    if (method !== "GET" && method !== "HEAD") return false;
    const path = rawUrl.split(/[?#]/, 1)[0] ?? "";
    return this.routes.some((r) => r.public && r.pattern.test(path));
  }

  async dispatch(method: string, rawUrl: string, body: unknown): Promise<AdminResponse> {
    const url = parseTarget(rawUrl);
    const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
    if (matching.length === 0) throw new AdminHttpError(404, `no such path: ${url.pathname}; see GET /v1`);
    const route = matching.find((r) => r.method === method || (method === "HEAD" && r.method === "GET"));
    if (!route) throw new AdminHttpError(405, `${method} is not allowed on ${url.pathname}; allowed: ${matching.map((r) => r.method).join(", ")}`);
    const m = route.pattern.exec(url.pathname)!;
    const params: Record<string, string> = {};
    route.keys.forEach((k, i) => {
      params[k] = decodeComponent(m[i + 1] ?? "", "path");
    });
    return route.handler({ method, path: url.pathname, params, query: url.searchParams, body });
  }
}

/** How long a client may take to send a whole request (headers and body) before it gets 408 (default 10 s). */
export const DEFAULT_ADMIN_REQUEST_TIMEOUT_MS = 10_000;

export async function startAdminServer(
  router: AdminRouter,
  at: HostPort,
  logger: Logger,
  options: { readonly requestTimeoutMs?: number; readonly access?: AdminAccess } = {},
): Promise<ListeningHttp> {
  const access = options.access ?? {};
  assertAdminExposure(at, access);
  let bound: HostPort = at;
  const gate = new AdminGate(access, () => [at, bound]);
  const timeout = options.requestTimeoutMs ?? DEFAULT_ADMIN_REQUEST_TIMEOUT_MS;
  // A client that sends headers or a body slowly (or never finishes) must not hold a request open forever.
  const limits = { requestTimeout: timeout, headersTimeout: timeout, connectionsCheckingInterval: Math.min(1000, Math.max(50, timeout / 4)) };
  const server = createServer(limits, (req, res) => {
    runInBackground(serve(router, gate, req, res, logger), `serving admin request ${req.method ?? "GET"} ${req.url ?? "/"}`, { logger });
  });
  const listening = await listenHttp(server, "admin API", at, logger);
  bound = listening.address;
  return listening;
}

async function serve(router: AdminRouter, gate: AdminGate, req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  try {
    // Token and Origin before anything is read or routed: a refused caller learns nothing and changes nothing.
    // Public routes are static files (the console): reading them needs no token; everything they show comes from /v1 calls that do.
    if (!router.isPublic(req.method ?? "GET", req.url ?? "/")) gate.check(req);
    const body = await readJsonBody(req);
    const out = await router.dispatch(req.method ?? "GET", req.url ?? "/", body);
    const status = out.status ?? 200;
    if (out.stream) {
      out.stream(req, res);
      return;
    }
    if (out.text !== undefined) {
      res.writeHead(status, { "content-type": out.contentType ?? "text/plain; charset=utf-8", ...out.headers });
      res.end(req.method === "HEAD" ? undefined : out.text);
    } else {
      res.writeHead(status, { "content-type": "application/json", ...out.headers });
      res.end(req.method === "HEAD" ? undefined : `${JSON.stringify(out.json ?? null, null, 2)}\n`);
    }
  } catch (err) {
    const status = err instanceof AdminHttpError ? err.status : 500;
    if (status === 500) logger.error("admin request failed", { url: req.url, error: errorMessage(err) });
    // 413: the client may still be sending; answer, then close rather than read the rest.
    // 401 and 403 too: the unread body of a refused call is not worth reading.
    const close = status === 413 || status === 401 || status === 403;
    const extra = err instanceof AdminHttpError ? err.headers : {};
    if (!res.headersSent) res.writeHead(status, { "content-type": "application/json", ...extra, ...(close && { connection: "close" }) });
    res.end(`${JSON.stringify({ error: errorMessage(err), status })}\n`);
    if (close) res.once("finish", () => req.destroy());
  }
}
