/**
 * Events: the event log (GET /v1/events), newest first, followed live over
 * server-sent events (GET /v1/events/stream?after=<last seq>); while the
 * stream is down (refused when the server has too many, or broken), each
 * refresh asks for the events after the last one seen instead, so either
 * way only new events move. Filterable by type and by filter name. A rollback shows its evidence: which signals,
 * from which nodes, which stat.
 *
 * Bounded: at most MAX_KEPT events are held and shown; older ones drop off
 * the end.
 */
import type { LoggedEvent } from "../../../events/event-log";
import { followStream, getJson } from "./api";
import { fill, h, time } from "./dom";
import type { Context, Page } from "./page";

const MAX_KEPT = 500;
const FIRST_PAGE = 200;

interface Signal {
  readonly node?: unknown;
  readonly kind?: unknown;
  readonly count?: unknown;
  readonly evidence?: unknown;
  readonly at?: unknown;
}

function filterOf(e: LoggedEvent): string {
  const f = e.details?.filter;
  return typeof f === "string" ? f : "";
}

function evidence(e: LoggedEvent): HTMLElement | null {
  const signals = e.details?.signals;
  const nodes = e.details?.nodes;
  if (!Array.isArray(signals) || signals.length === 0) return null;
  return h(
    "div",
    { class: "evidence" },
    h("h3", null, "Evidence"),
    Array.isArray(nodes) ? h("p", null, `From nodes: ${nodes.map(String).join(", ")}`) : null,
    h(
      "table",
      null,
      h("thead", null, h("tr", null, ...["Signal", "Node", "Count", "Stat or message"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        null,
        ...(signals as Signal[]).map((sig) =>
          h("tr", null, h("td", null, String(sig.kind ?? "")), h("td", null, h("code", null, String(sig.node ?? ""))), h("td", { class: "n" }, String(sig.count ?? "")), h("td", null, h("code", null, String(sig.evidence ?? "")))),
        ),
      ),
    ),
  );
}

function item(e: LoggedEvent): HTMLLIElement {
  const { signals: _signals, ...rest } = e.details ?? {};
  return h(
    "li",
    { class: `event event-${e.type}`, "data-seq": e.seq, "data-type": e.type },
    h("p", { class: "event-head" }, time(e.at), " ", h("span", { class: "type" }, e.type), " ", h("span", { class: "cause" }, e.cause)),
    h("p", { class: "message" }, e.message),
    evidence(e),
    Object.keys(rest).length > 0 ? h("details", null, h("summary", null, "Details"), h("pre", null, JSON.stringify(rest, null, 2))) : null,
  );
}

export function eventsPage(root: HTMLElement, _ctx: Context): Page {
  const types = h("select", { id: "event-type" }, h("option", { value: "" }, "all types"));
  const filter = h("input", { id: "event-filter", type: "search", placeholder: "filter name", autocomplete: "off" });
  const count = h("p", { class: "summary", role: "status" });
  const list = h("ol", { class: "events", reversed: true, "aria-label": "Events, newest first" });
  fill(
    root,
    h("h1", null, "Events"),
    h("form", { class: "controls", role: "search" }, h("label", { for: "event-type" }, "Type "), types, " ", h("label", { for: "event-filter" }, "Filter "), filter),
    count,
    list,
  );
  const kept: LoggedEvent[] = [];
  const knownTypes = new Set<string>();
  let lastSeq = 0;
  let first = true;

  const shows = (e: LoggedEvent) => (types.value === "" || e.type === types.value) && (filter.value.trim() === "" || filterOf(e).includes(filter.value.trim()));
  const summarize = () => fill(count, `${list.children.length} of ${kept.length} events shown (newest first; live)`);
  const redraw = () => {
    fill(list, ...kept.filter(shows).reverse().map(item));
    summarize();
  };
  types.addEventListener("change", redraw);
  filter.addEventListener("input", redraw);
  root.querySelector("form")?.addEventListener("submit", (ev) => ev.preventDefault());

  const add = (e: LoggedEvent) => {
    if (e.seq <= lastSeq) return;
    kept.push(e);
    lastSeq = e.seq;
    if (!knownTypes.has(e.type)) {
      // A type seen for the first time joins the select, keeping the choice.
      knownTypes.add(e.type);
      const options = [...knownTypes].sort().map((t) => h("option", { value: t }, t));
      const chosen = types.value;
      types.replaceChildren(h("option", { value: "" }, "all types"), ...options);
      types.value = chosen;
    }
    if (shows(e)) list.prepend(item(e));
    while (kept.length > MAX_KEPT) kept.shift();
    while (list.children.length > MAX_KEPT) list.lastElementChild?.remove();
  };

  const abort = new AbortController();
  let streaming = false;
  const follow = () => {
    streaming = true;
    list.dataset.live = "stream";
    followStream(`/v1/events/stream?after=${lastSeq}`, abort.signal, (data) => {
      add(JSON.parse(data) as LoggedEvent);
      summarize();
    })
      .catch(() => undefined)
      .finally(() => {
        // Ended or refused: the next refreshes poll, and one of them opens the stream again.
        streaming = false;
        list.dataset.live = "poll";
      });
  };

  return {
    async refresh() {
      if (streaming) return;
      const path = first ? `/v1/events?limit=${FIRST_PAGE}` : `/v1/events?after=${lastSeq}&limit=${MAX_KEPT}`;
      const { events } = await getJson<{ events: LoggedEvent[] }>(path);
      first = false;
      for (const e of events) add(e);
      summarize();
      if (!abort.signal.aborted) follow();
    },
    destroy() {
      abort.abort();
    },
  };
}
