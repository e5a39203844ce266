/**
 * The console's DOM helpers: elements built with text nodes and attributes,
 * never from HTML strings, so nothing the server says (a NACK message, a
 * node id) can become markup. The Content-Security-Policy forbids inline
 * script anyway; this keeps data out of the markup too.
 */

type Child = Node | string | number | null | undefined | false;
type Attrs = Readonly<Record<string, string | number | boolean | undefined>>;

function apply(el: Element, attrs: Attrs | null | undefined, children: readonly Child[]): void {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "number" ? String(c) : c);
  }
}

/** An HTML element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs, children);
  return el;
}

/** An SVG element with attributes and children. */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  apply(el, attrs, children);
  return el;
}

/** 10000 -> "10,000". */
export function num(n: number): string {
  return n.toLocaleString("en-US");
}

/** Milliseconds as "1.5 s", "2 min 5 s". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** An ISO time as local "HH:MM:SS", with the full time in a <time> element. */
export function time(iso: string): HTMLTimeElement {
  const d = new Date(iso);
  return h("time", { datetime: iso, title: d.toString() }, d.toLocaleTimeString("en-GB", { hour12: false }));
}

/** A status word with a symbol, so the state never rests on colour alone. */
export function badge(status: string): HTMLSpanElement {
  const symbol: Record<string, string> = {
    good: "✓",
    completed: "✓",
    running: "▶",
    probation: "…",
    paused: "⏸",
    idle: "○",
    quarantined: "✕",
    aborted: "✕",
    rejected: "✕",
    superseded: "↷",
    cancelled: "○",
  };
  return h("span", { class: `badge badge-${status.replace(/[^a-z-]/g, "")}` }, h("span", { "aria-hidden": "true" }, symbol[status] ?? "•"), ` ${status}`);
}

/** Replaces the children of `el`. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  apply(el, null, children);
}
