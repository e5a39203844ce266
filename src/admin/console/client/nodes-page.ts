/**
 * Nodes: a searchable table of the connected nodes, one page at a time
 * (GET /v1/nodes?q=&offset=&limit=, matched and paged on the server), so at
 * 10,000 nodes the browser holds PAGE_SIZE rows and the server builds
 * PAGE_SIZE views per refresh. The table body is rebuilt only when the
 * page's answer changed. A replica column appears when nodes carry one.
 */
import type { NodePage } from "../../node-query";
import type { NodeView } from "../../views";
import { getJson } from "./api";
import { fill, h, num } from "./dom";
import { type Context, type Page, changed } from "./page";

export const PAGE_SIZE = 50;
const TYPES = ["LDS", "RDS", "CDS", "EDS", "ECDS"] as const;

/** One type's line: sent, ACKed, and a NACK with Envoy's message (in words, not only colour). */
export function typeCell(t: NodeView["types"][string] | undefined): HTMLElement {
  if (!t) return h("span", { class: "muted" }, "—");
  return h(
    "span",
    null,
    `sent ${t.sent ?? "—"} · ACKed ${t.acked ?? "—"}`,
    t.rejected ? h("span", { class: "nack" }, h("br"), h("strong", null, `NACKed ${t.rejected.version}: `), t.rejected.message) : null,
  );
}

function replicaOf(n: NodeView): string | undefined {
  const r = (n as NodeView & { replica?: unknown }).replica;
  return typeof r === "string" ? r : undefined;
}

export function nodesPage(root: HTMLElement, ctx: Context, arg: string): Page {
  const search = h("input", { id: "node-search", type: "search", placeholder: "id, cluster, group or key=value", autocomplete: "off", value: decodeURIComponent(arg) });
  const prev = h("button", { type: "button" }, "Previous page");
  const next = h("button", { type: "button" }, "Next page");
  const where = h("p", { class: "summary", role: "status", id: "node-range" });
  const head = h("thead");
  const body = h("tbody");
  fill(
    root,
    h("h1", null, "Nodes"),
    h("form", { class: "controls", role: "search" }, h("label", { for: "node-search" }, "Search "), search),
    where,
    h("table", { class: "nodes", "aria-describedby": "node-range" }, h("caption", { class: "visually-hidden" }, "Connected nodes"), head, body),
    h("nav", { class: "pager", "aria-label": "Pages of nodes" }, prev, " ", next),
  );
  let offset = 0;
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const isNew = changed<NodePage>();

  const page: Page = {
    async refresh() {
      const q = search.value.trim();
      const p = await getJson<NodePage>(`/v1/nodes?limit=${PAGE_SIZE}&offset=${offset}${q ? `&q=${encodeURIComponent(q)}` : ""}`);
      total = p.total;
      if (offset > 0 && offset >= total) {
        offset = Math.max(0, Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE);
        return page.refresh();
      }
      prev.disabled = offset === 0;
      next.disabled = offset + PAGE_SIZE >= total;
      fill(where, total === 0 ? "No nodes match." : `Nodes ${num(offset + 1)}–${num(Math.min(total, offset + PAGE_SIZE))} of ${num(total)}${q ? ` matching “${q}”` : ""}`);
      if (!isNew(p)) return;
      const replicas = p.nodes.some((n) => replicaOf(n) !== undefined);
      const cols = ["Node", "Cluster", "Group", "Metadata", ...(replicas ? ["Replica"] : []), ...TYPES];
      fill(head, h("tr", null, ...cols.map((c) => h("th", { scope: "col" }, c))));
      fill(
        body,
        ...p.nodes.map((n) =>
          h(
            "tr",
            null,
            h("th", { scope: "row" }, h("a", { href: `#/nodes/${encodeURIComponent(n.id)}` }, n.id)),
            h("td", null, n.cluster),
            h("td", null, n.group ? h("code", null, n.group) : "—"),
            h("td", null, Object.entries(n.metadata).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ")),
            replicas ? h("td", null, replicaOf(n) ?? "—") : null,
            ...TYPES.map((t) => h("td", { class: "xds" }, typeCell(n.types[t]))),
          ),
        ),
      );
    },
    destroy() {
      clearTimeout(timer);
    },
  };
  const go = (to: number) => {
    offset = Math.max(0, to);
    page.refresh().catch((err: unknown) => ctx.say(String(err), "error"));
  };
  prev.addEventListener("click", () => go(offset - PAGE_SIZE));
  next.addEventListener("click", () => go(offset + PAGE_SIZE));
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => go(0), 250);
  });
  root.querySelector("form")?.addEventListener("submit", (ev) => {
    ev.preventDefault();
    go(0);
  });
  return page;
}
