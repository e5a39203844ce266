/**
 * GET /v1/nodes with `q`, `offset` and `limit`: one page of the connected
 * nodes, matched and sorted before any view is built, so a console showing
 * 50 rows of a 10,000-node fleet every second builds 50 views, not 10,000
 * (docs/CONSOLE.md, "Nodes"). Without parameters the answer is every node,
 * as before, plus `total`.
 */
import type { StreamStatus } from "../xds/type-state";
import type { XdsStreams } from "../xds/xds-streams";
import { AdminHttpError } from "./admin-error";
import { type NodeView, byNodeId, nodeView } from "./views";

/** Largest page one request may ask for. */
export const MAX_NODE_PAGE = 1000;
/** Longest search text taken (a longer one is refused, not truncated). */
const MAX_QUERY_CHARS = 200;

export interface NodePage {
  /** Nodes matching `q` (all of them without it). */
  readonly total: number;
  readonly offset: number;
  readonly limit: number | null;
  readonly nodes: readonly NodeView[];
}

function intParam(query: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) throw new AdminHttpError(400, `${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw.slice(0, 20))}`);
  return n;
}

/** Whether a node matches the search text: a substring (any case) of its id, cluster, group or a metadata `key=value`. */
function matches(s: StreamStatus, needle: string): boolean {
  const n = s.node!;
  if (n.id.toLowerCase().includes(needle) || n.cluster.toLowerCase().includes(needle) || (s.group ?? "").toLowerCase().includes(needle)) return true;
  for (const [k, v] of Object.entries(n.metadata)) {
    if (`${k}=${typeof v === "string" ? v : JSON.stringify(v)}`.toLowerCase().includes(needle)) return true;
  }
  return false;
}

export function nodePage(xds: XdsStreams, query: URLSearchParams): NodePage {
  const offset = intParam(query, "offset", 0, 1e9) ?? 0;
  const limit = intParam(query, "limit", 1, MAX_NODE_PAGE);
  const q = query.get("q") ?? "";
  if (q.length > MAX_QUERY_CHARS) throw new AdminHttpError(400, `q: expected at most ${MAX_QUERY_CHARS} characters, got ${q.length}`);
  const needle = q.trim().toLowerCase();
  const found = xds.streamStatuses().filter((s) => s.node !== undefined && (needle === "" || matches(s, needle)));
  found.sort((a, b) => byNodeId({ id: a.node!.id, streamId: a.streamId }, { id: b.node!.id, streamId: b.streamId }));
  const page = found.slice(offset, limit === undefined ? undefined : offset + limit);
  return { total: found.length, offset, limit: limit ?? null, nodes: page.map((s) => nodeView(s)!) };
}

/** GET /v1/nodes/<id>: the node's newest stream, or 404. */
export function oneNode(xds: XdsStreams, id: string): NodeView {
  let newest: StreamStatus | undefined;
  for (const s of xds.streamStatuses()) if (s.node?.id === id && (!newest || s.streamId > newest.streamId)) newest = s;
  if (!newest) throw new AdminHttpError(404, `no node "${id}" is connected over xDS`);
  return nodeView(newest)!;
}
