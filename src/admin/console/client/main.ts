/**
 * The console's entry point (bundled into dist/console/app.js by
 * scripts/build-console.mjs): hash routes to pages, a refresh of the shown
 * page every second (live updates without a reload; one refresh at a time),
 * and the admin token form. docs/CONSOLE.md describes the pages.
 */
import { setToken, token } from "./api";
import { SeriesStore } from "./charts";
import { fill } from "./dom";
import { eventsPage } from "./events-page";
import { fleetPage } from "./fleet-page";
import { nodePage } from "./node-page";
import { nodesPage } from "./nodes-page";
import type { Context, Page, PageFactory } from "./page";
import { rolloutsPage } from "./rollouts-page";

const REFRESH_MS = 1000;

const ROUTES: ReadonlyArray<{ readonly pattern: RegExp; readonly nav: string; readonly title: string; readonly make: PageFactory }> = [
  { pattern: /^#\/fleet$/, nav: "fleet", title: "Fleet", make: fleetPage },
  { pattern: /^#\/rollouts$/, nav: "rollouts", title: "Rollouts", make: rolloutsPage },
  { pattern: /^#\/events$/, nav: "events", title: "Events", make: eventsPage },
  { pattern: /^#\/nodes\/(.+)$/, nav: "nodes", title: "Node", make: nodePage },
  { pattern: /^#\/nodes(?:\?q=(.*))?$/, nav: "nodes", title: "Nodes", make: nodesPage },
];

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`console: the page has no #${id}`);
  return el as T;
}

const view = byId<HTMLElement>("view");
const status = byId<HTMLElement>("status");
const updated = byId<HTMLElement>("updated");
const ctx: Context = {
  samples: new SeriesStore(),
  say(message, kind = "info") {
    status.className = kind;
    fill(status, message);
  },
};

let page: Page | undefined;
let busy = false;
let failing = false;

/** Starts a refresh; it reports its own failures in the status line. */
function kick(): void {
  refresh().catch((err: unknown) => ctx.say(String(err), "error"));
}

async function refresh(): Promise<void> {
  if (!page || busy) return;
  busy = true;
  const shown = page;
  try {
    await shown.refresh();
    if (failing) ctx.say("Connected again.");
    failing = false;
    fill(updated, `Updated ${new Date().toLocaleTimeString("en-GB", { hour12: false })}`);
  } catch (err) {
    failing = true;
    if (shown === page) ctx.say(err instanceof Error ? err.message : String(err), "error");
  } finally {
    busy = false;
  }
}

function route(): void {
  const hash = location.hash || "#/fleet";
  const r = ROUTES.find((x) => x.pattern.test(hash));
  if (!r) {
    location.hash = "#/fleet";
    return;
  }
  page?.destroy?.();
  for (const a of document.querySelectorAll<HTMLAnchorElement>("nav.main a")) {
    if (a.dataset.nav === r.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${r.title} · wasmxds`;
  ctx.say("");
  busy = false;
  page = r.make(view, ctx, r.pattern.exec(hash)?.[1] ?? "");
  kick();
}

function tokenForm(): void {
  const form = byId<HTMLFormElement>("token-form");
  const input = byId<HTMLInputElement>("token");
  const state = byId<HTMLElement>("token-state");
  const show = () => fill(state, token() === null ? "No token: reads only (or none, with --admin-auth reads)." : "Token set for this tab.");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    setToken(input.value);
    input.value = "";
    show();
    kick();
  });
  byId<HTMLButtonElement>("token-forget").addEventListener("click", () => {
    setToken(null);
    show();
  });
  show();
}

tokenForm();
window.addEventListener("hashchange", route);
route();
setInterval(kick, REFRESH_MS);
