/**
 * The admin HTTP API (default 127.0.0.1:18003): JSON under /v1 for
 * operators and scripts. Routes are registered by the parts that own the
 * data; this file only does HTTP: routing, query parsing, JSON, errors.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { WasmxdsError, errorMessage } from "../errors";
import type { Logger } from "../logger";
import type { HostPort } from "../net/host-port";
import { type ListeningHttp, listenHttp } from "../net/http-listen";

export const DEFAULT_ADMIN_ADDRESS = "127.0.0.1:18003";

export interface AdminRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

export type AdminResponse = { readonly status?: number; readonly json?: unknown; readonly text?: string; readonly contentType?: string };

export type AdminHandler = (req: AdminRequest) => AdminResponse | Promise<AdminResponse>;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly keys: readonly string[];
  readonly handler: AdminHandler;
}

/** An error a handler throws to answer with a status and message. */
export class AdminHttpError extends WasmxdsError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super("USAGE", message);
  }
}

export class AdminRouter {
  private readonly routes: Route[] = [];

  /** `path` may hold `:name` segments, e.g. `/v1/filters/:name/quarantine/clear`. */
  add(method: "GET" | "POST" | "DELETE", path: string, handler: AdminHandler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/:([a-zA-Z]+)/g, (_, k: string) => {
        keys.push(k);
        return "([^/]+)";
      })}$`,
    );
    this.routes.push({ method, pattern, keys, handler });
    return this;
  }

  paths(): string[] {
    return this.routes.map((r) => `${r.method} ${r.pattern.source.slice(1, -1).replace(/\(\[\^\/\]\+\)/g, ":param")}`);
  }

  async dispatch(method: string, rawUrl: string, body: unknown): Promise<AdminResponse> {
    const url = new URL(rawUrl, "http://admin");
    const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
    if (matching.length === 0) throw new AdminHttpError(404, `no such path: ${url.pathname}; see GET /v1`);
    const route = matching.find((r) => r.method === method || (method === "HEAD" && r.method === "GET"));
    if (!route) throw new AdminHttpError(405, `${method} is not allowed on ${url.pathname}; allowed: ${matching.map((r) => r.method).join(", ")}`);
    const m = route.pattern.exec(url.pathname)!;
    const params: Record<string, string> = {};
    route.keys.forEach((k, i) => {
      params[k] = decodeURIComponent(m[i + 1] ?? "");
    });
    return route.handler({ method, path: url.pathname, params, query: url.searchParams, body });
  }
}

const MAX_BODY = 1024 * 1024;

export async function startAdminServer(router: AdminRouter, at: HostPort, logger: Logger): Promise<ListeningHttp> {
  const server = createServer((req, res) => {
    void serve(router, req, res, logger);
  });
  return listenHttp(server, "admin API", at, logger);
}

async function serve(router: AdminRouter, req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  try {
    const body = await readJson(req);
    const out = await router.dispatch(req.method ?? "GET", req.url ?? "/", body);
    const status = out.status ?? 200;
    if (out.text !== undefined) {
      res.writeHead(status, { "content-type": out.contentType ?? "text/plain; charset=utf-8" });
      res.end(req.method === "HEAD" ? undefined : out.text);
    } else {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(req.method === "HEAD" ? undefined : `${JSON.stringify(out.json ?? null, null, 2)}\n`);
    }
  } catch (err) {
    const status = err instanceof AdminHttpError ? err.status : 500;
    if (status === 500) logger.error("admin request failed", { url: req.url, error: errorMessage(err) });
    if (!res.headersSent) res.writeHead(status, { "content-type": "application/json" });
    res.end(`${JSON.stringify({ error: errorMessage(err), status })}\n`);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (req.method === "GET" || req.method === "HEAD") return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new AdminHttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new AdminHttpError(400, "request body is not valid JSON");
  }
}
