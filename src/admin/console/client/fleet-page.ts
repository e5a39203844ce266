/**
 * Fleet: every filter with the version each connected node receives (a bar
 * split by version, GET /v1/fleet), health counts per version, the
 * last-known-good and quarantined versions with their reasons
 * (GET /v1/filters), and charts of nodes, NACKs and crash signals per
 * version since the console was opened. A quarantined version has a button
 * to clear its quarantine (POST /v1/filters/<name>/quarantine/clear) after
 * a confirmation.
 */
import type { FleetFilter, FleetView } from "../../fleet-routes";
import type { FilterView } from "../../views";
import { ApiError, getJson, postJson } from "./api";
import { lineChart } from "./charts";
import { confirmDialog, refusal } from "./confirm";
import { badge, fill, h, num, time } from "./dom";
import { type Context, type Page, changed } from "./page";

function bar(f: FleetFilter): HTMLElement {
  const total = f.versions.reduce((n, v) => n + v.nodes, 0) + f.notSelected;
  const shown = f.versions.filter((v) => v.nodes > 0);
  const label = shown.map((v) => `${v.plugin} on ${num(v.nodes)}`).join(", ") + (f.notSelected > 0 ? `, not selected on ${num(f.notSelected)}` : "");
  const el = h("div", { class: "bar", role: "img", "aria-label": `${f.name}: ${label || "no nodes"}` });
  shown.forEach((v, i) => {
    const seg = h("span", { class: `seg seg-${i % 5} seg-status-${v.status}`, title: `${v.plugin} (settings ${v.settings}): ${num(v.nodes)} nodes` }, `${v.plugin.slice(v.plugin.indexOf("@") + 1)} · ${num(v.nodes)}`);
    seg.style.flexGrow = String(v.nodes);
    el.append(seg);
  });
  if (f.notSelected > 0) {
    const seg = h("span", { class: "seg seg-none", title: `not selected: ${num(f.notSelected)} nodes` }, `not selected · ${num(f.notSelected)}`);
    seg.style.flexGrow = String(f.notSelected);
    el.append(seg);
  }
  if (total === 0) el.append(h("span", { class: "seg seg-none" }, "no nodes connected"));
  return el;
}

function versionTable(f: FleetFilter): HTMLElement {
  return h(
    "table",
    null,
    h("caption", null, `Versions of ${f.name}`),
    h("thead", null, h("tr", null, ...["Version", "Settings", "Nodes", "Health", "ACKed", "NACKs", "Crash signals"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      null,
      ...f.versions.map((v, i) =>
        h(
          "tr",
          null,
          h("th", { scope: "row" }, h("span", { class: `swatch seg-${i % 5}`, "aria-hidden": "true" }), " ", h("code", null, v.plugin)),
          h("td", null, h("code", null, v.settings)),
          h("td", { class: "n" }, num(v.nodes)),
          h("td", null, badge(v.status)),
          h("td", { class: "n" }, num(v.acked)),
          h("td", { class: "n" }, num(v.nacks)),
          h("td", { class: "n" }, num(v.crashSignals)),
        ),
      ),
    ),
  );
}

function facts(name: string, view: FilterView | undefined, clear: (sha256: string) => void): HTMLElement {
  const good = view?.lastGood;
  return h(
    "dl",
    { class: "facts" },
    h("dt", null, "Serving"),
    h("dd", null, view?.current ? h("code", null, view.current.plugin) : "nothing", view?.desired ? ` (the folder names ${view.desired.plugin}, quarantined)` : null),
    h("dt", null, "Last known good"),
    h("dd", null, good ? h("span", null, h("code", null, `${name}@${good.sha256.slice(0, 8)}`), " since ", time(good.since)) : "none yet"),
    h("dt", null, "Quarantined"),
    h(
      "dd",
      null,
      view && view.quarantined.length > 0
        ? h(
            "ul",
            { class: "plain quarantined" },
            ...view.quarantined.map((q) => {
              const button = h("button", { type: "button", class: "danger" }, `Clear quarantine of ${name}@${q.sha256.slice(0, 8)}`);
              button.addEventListener("click", () => clear(q.sha256));
              return h(
                "li",
                null,
                badge("quarantined"),
                " ",
                h("code", null, `${name}@${q.sha256.slice(0, 8)}`),
                ` — ${q.reason} (nodes: ${q.nodes.join(", ") || "none named"}) `,
                time(q.at),
                " ",
                button,
              );
            }),
          )
        : "none",
    ),
    ...(view && view.rejected.length > 0
      ? [
          h("dt", null, "Rejected by pre-flight"),
          h("dd", null, h("ul", { class: "plain" }, ...view.rejected.slice(0, 5).map((r) => h("li", null, h("code", null, r.sha256.slice(0, 8)), ` ${r.stage ?? ""}: ${r.reason ?? ""}`)))),
        ]
      : []),
  );
}

function charts(f: FleetFilter, ctx: Context): HTMLElement[] {
  return [
    lineChart(
      `Nodes per version of ${f.name}`,
      f.versions.map((v) => ({ label: v.plugin, points: ctx.samples.get(`nodes ${f.name} ${v.plugin} ${v.settings}`) })),
      "nodes",
    ),
    lineChart(
      `NACKs and crash signals per version of ${f.name}`,
      f.versions.flatMap((v) => [
        { label: `${v.plugin} NACKs`, points: ctx.samples.get(`nacks ${f.name} ${v.plugin} ${v.settings}`) },
        { label: `${v.plugin} crashes`, points: ctx.samples.get(`crashes ${f.name} ${v.plugin} ${v.settings}`) },
      ]),
      "",
    ),
  ];
}

/** One filter's card: built once; its parts are refilled only when their data changed (the charts every second), so focus on a button survives. */
interface Card {
  readonly el: HTMLElement;
  readonly title: HTMLElement;
  readonly summary: HTMLElement;
  readonly facts: HTMLElement;
  readonly charts: HTMLElement;
  readonly isNew: (data: unknown) => boolean;
}

function card(name: string): Card {
  const id = `filter-${name}`;
  const title = h("h2", { id }, name);
  const summary = h("div");
  const factsBox = h("div");
  const chartsBox = h("div", { class: "charts" });
  return { el: h("section", { class: "card", "aria-labelledby": id }, title, summary, factsBox, chartsBox), title, summary, facts: factsBox, charts: chartsBox, isNew: changed<unknown>() };
}

export function fleetPage(root: HTMLElement, ctx: Context): Page {
  const summary = h("p", { class: "summary" });
  const list = h("div", { class: "filters" });
  const dialog = h("dialog", { id: "confirm" });
  fill(root, h("h1", null, "Fleet"), summary, list, dialog);
  const cards = new Map<string, Card>();

  async function clear(filter: string, sha256: string): Promise<void> {
    const plugin = `${filter}@${sha256.slice(0, 8)}`;
    const yes = await confirmDialog(
      dialog,
      `Clear the quarantine of ${plugin}?`,
      `${plugin} may be served again: if the config folder still names it, it is pushed to the fleet at once.`,
      "Clear quarantine",
      true,
    );
    if (!yes) return;
    try {
      await postJson(`/v1/filters/${encodeURIComponent(filter)}/quarantine/clear`, { sha256 });
      ctx.say(`quarantine of ${plugin} cleared`);
      await page.refresh();
    } catch (err) {
      ctx.say(refusal(`clearing the quarantine of ${plugin}`, err, err instanceof ApiError ? err.status : undefined), "error");
    }
  }

  const page: Page = {
    async refresh() {
      const [fleet, filters] = await Promise.all([getJson<FleetView>("/v1/fleet"), getJson<{ filters: FilterView[] }>("/v1/filters")]);
      const t = Date.now();
      for (const f of fleet.filters) {
        for (const v of f.versions) {
          ctx.samples.add(`nodes ${f.name} ${v.plugin} ${v.settings}`, t, v.nodes);
          ctx.samples.add(`nacks ${f.name} ${v.plugin} ${v.settings}`, t, v.nacks);
          ctx.samples.add(`crashes ${f.name} ${v.plugin} ${v.settings}`, t, v.crashSignals);
        }
      }
      fill(summary, h("strong", null, num(fleet.nodes)), ` node${fleet.nodes === 1 ? "" : "s"} connected · config version `, h("code", null, fleet.configVersion ?? "none"));
      if (fleet.filters.length === 0) {
        cards.clear();
        fill(list, h("p", null, "No filters are configured."));
        return;
      }
      const els: HTMLElement[] = [];
      for (const f of fleet.filters) {
        const view = filters.filters.find((x) => x.name === f.name);
        let c = cards.get(f.name);
        if (!c) {
          c = card(f.name);
          cards.set(f.name, c);
        }
        if (c.isNew({ f, view })) {
          fill(c.title, f.name, view ? h("span", { class: "sub" }, ` ${view.kind} filter · ${view.failurePolicy}`) : null);
          fill(c.summary, bar(f), versionTable(f));
          fill(c.facts, facts(f.name, view, (sha) => {
            clear(f.name, sha).catch((err: unknown) => ctx.say(String(err), "error"));
          }));
        }
        fill(c.charts, ...charts(f, ctx));
        els.push(c.el);
      }
      for (const name of cards.keys()) if (!fleet.filters.some((f) => f.name === name)) cards.delete(name);
      if (els.length !== list.children.length || els.some((e, i) => list.children[i] !== e)) list.replaceChildren(...els);
    },
  };
  return page;
}
