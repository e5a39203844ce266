/**
 * A simulated node's admin port: the read-only part of Envoy's admin API
 * that tools use to watch a fleet (Envoy admin docs "Administration
 * interface"): GET /stats (text, or format=json), /stats/prometheus, /ready
 * and /server_info. `filter=<regex>` and `usedonly` work as in Envoy; a bad
 * regex is a 400 like Envoy's "Invalid re2 regex".
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { renderJson, renderPrometheus, renderText, selectStats, type StatsQuery } from "../stats/stats-render";
import type { StatsStore } from "../stats/stats-store";

export interface AdminSource {
  readonly stats: StatsStore;
  /** Envoy's server state: LIVE once the initial xDS config is in and listeners warmed. */
  serverState(): "LIVE" | "PRE_INITIALIZING" | "INITIALIZING";
  serverInfo(): Record<string, unknown>;
}

export interface AdminServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

const text = (status: number, body: string): Reply => ({ status, type: "text/plain", body });

function parseQuery(url: URL): StatsQuery | string {
  const filterText = url.searchParams.get("filter");
  let filter: RegExp | undefined;
  if (filterText !== null && filterText !== "") {
    try {
      filter = new RegExp(filterText);
    } catch {
      return "Invalid re2 regex";
    }
  }
  return { filter, usedOnly: url.searchParams.has("usedonly") };
}

function route(source: AdminSource, method: string | undefined, url: URL): Reply {
  if (method !== "GET" && method !== "HEAD") return text(405, "method not allowed\n");
  if (url.pathname === "/stats" || url.pathname === "/stats/prometheus") {
    const q = parseQuery(url);
    if (typeof q === "string") return text(400, `${q}\n`);
    const stats = selectStats(source.stats.all(), q);
    if (url.pathname === "/stats/prometheus" || url.searchParams.get("format") === "prometheus") {
      return { status: 200, type: "text/plain; version=0.0.4", body: renderPrometheus(stats) };
    }
    if (url.searchParams.get("format") === "json") return { status: 200, type: "application/json", body: renderJson(stats) };
    return text(200, renderText(stats));
  }
  if (url.pathname === "/ready") {
    const state = source.serverState();
    return text(state === "LIVE" ? 200 : 503, `${state}\n`);
  }
  if (url.pathname === "/server_info") {
    return { status: 200, type: "application/json", body: JSON.stringify({ ...source.serverInfo(), state: source.serverState() }) };
  }
  return text(404, "invalid path. admin commands are: /ready /server_info /stats /stats/prometheus\n");
}

function handle(source: AdminSource, req: IncomingMessage, res: ServerResponse): void {
  const reply = route(source, req.method, new URL(req.url ?? "/", "http://admin"));
  res.writeHead(reply.status, { "content-type": reply.type, "cache-control": "no-cache, max-age=0" });
  res.end(reply.body);
}

export async function startAdminServer(source: AdminSource, host: string, port: number): Promise<AdminServer> {
  const server: Server = createServer((req, res) => handle(source, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    host,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
