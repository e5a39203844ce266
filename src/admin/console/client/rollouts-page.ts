/**
 * Rollouts: each filter's rollout (GET /v1/rollouts) as a progress line of
 * steps, nodes on candidate vs stable, bake time left, its gates with the
 * current values against their limits, and its history; buttons pause,
 * resume, promote and abort (POST /v1/rollouts/<filter>/<action>) after a
 * confirmation dialog, with the admin token when one is pasted. A chart
 * shows nodes on the candidate and on stable since the page was opened.
 *
 * Each rollout's card is built once and updated in place: the bake time
 * changes every second, and rebuilding the buttons would throw away the
 * keyboard focus of an operator tabbing to them.
 */
import type { RolloutStatus } from "../../../rollout/status";
import { ApiError, getJson, postJson } from "./api";
import { lineChart } from "./charts";
import { confirmDialog, refusal } from "./confirm";
import { badge, duration, fill, h, num, time } from "./dom";
import { type Context, type Page, changed } from "./page";

type Action = "pause" | "resume" | "promote" | "abort";
const ACTIONS: readonly Action[] = ["pause", "resume", "promote", "abort"];

const CONSEQUENCE: Record<Action, string> = {
  pause: "The current step stops baking; nodes stay where they are until you resume.",
  resume: "The current step's bake continues from where it was paused.",
  promote: "The rollout moves to its next step now, without waiting for the bake or the gates.",
  abort: "Every node goes back to the stable version; the candidate is quarantined.",
};

function enabled(action: Action, r: RolloutStatus): boolean {
  if (r.state === "idle") return false;
  if (action === "pause") return r.state === "running";
  if (action === "resume") return r.state === "paused";
  return true;
}

function steps(r: RolloutStatus): HTMLElement {
  if (!r.step) return h("p", null, r.state === "idle" ? "No rollout in progress." : "");
  const items = Array.from({ length: r.step.of }, (_, i) => {
    const n = i + 1;
    const state = n < r.step!.index ? "done" : n === r.step!.index ? "current" : "pending";
    const mark = state === "done" ? "✓" : state === "current" ? "▶" : "○";
    return h(
      "li",
      { class: `step step-${state}`, ...(state === "current" && { "aria-current": "step" }) },
      h("span", { "aria-hidden": "true" }, mark),
      ` Step ${n}`,
      state === "current" ? `: ${r.step!.description}` : "",
      h("span", { class: "visually-hidden" }, ` (${state})`),
    );
  });
  const left = r.step.bakeLeftMs;
  const bake =
    r.step.bakeMs === 0
      ? h("p", null, "No bake time on this step.")
      : h(
          "p",
          null,
          h("label", { for: `bake-${r.filter}` }, "Bake "),
          h("progress", { id: `bake-${r.filter}`, max: r.step.bakeMs, value: left === null ? 0 : r.step.bakeMs - left }),
          left === null ? " not started (waiting for ACKs)" : ` ${duration(left)} left of ${duration(r.step.bakeMs)}`,
        );
  return h("div", null, h("ol", { class: "steps", "aria-label": `Steps of the ${r.filter} rollout` }, ...items), bake);
}

function nodes(r: RolloutStatus): HTMLElement {
  const { eligible, onCandidate, onStable } = r.nodes;
  const el = h("div", { class: "bar", role: "img", "aria-label": `${num(onCandidate)} of ${num(eligible)} nodes on the candidate, ${num(onStable)} on stable` });
  const cand = h("span", { class: "seg seg-1" }, `candidate · ${num(onCandidate)}`);
  cand.style.flexGrow = String(onCandidate);
  const stable = h("span", { class: "seg seg-0" }, `stable · ${num(onStable)}`);
  stable.style.flexGrow = String(onStable);
  if (onCandidate > 0) el.append(cand);
  if (onStable > 0) el.append(stable);
  return h("div", null, el, h("p", { class: "nodes-text" }, `${num(onCandidate)} on the candidate, ${num(onStable)} on stable (${num(eligible)} eligible)`));
}

function gates(r: RolloutStatus): HTMLElement {
  const v = r.values;
  const rows: Array<[string, number | undefined, number, boolean]> = [
    ["NACKs", v?.nacks, r.gates.maxNacks, true],
    ["Crash signals", v?.crashes, r.gates.maxCrashes, true],
    ["Disconnects", v?.disconnects, r.gates.maxDisconnects, true],
    ["Nodes ACKed", v?.acked, r.gates.minAcked, false],
  ];
  if (r.analysis) rows.push(["Failure ratio", undefined, r.gates.maxFailureRatio, true]);
  return h(
    "table",
    { class: "gates" },
    h("caption", null, "Gates of the current step"),
    h("thead", null, h("tr", null, ...["Gate", "Now", "Limit", "Verdict"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      null,
      ...rows.map(([name, now, limit, isMax]) => {
        const verdict = now === undefined ? "—" : isMax ? (now <= limit ? "within" : "over the limit") : now >= limit ? "met" : "waiting";
        return h(
          "tr",
          null,
          h("th", { scope: "row" }, name),
          h("td", { class: "n" }, now === undefined ? "—" : num(now)),
          h("td", { class: "n" }, `${isMax ? "at most" : "at least"} ${limit}`),
          h("td", { class: `verdict verdict-${verdict.replace(/ /g, "-")}` }, verdict),
        );
      }),
    ),
  );
}

function history(r: RolloutStatus): HTMLElement {
  if (r.history.length === 0) return h("p", null, "No rollouts finished yet.");
  return h(
    "table",
    null,
    h("caption", null, "History"),
    h("thead", null, h("tr", null, ...["When", "Version", "Outcome", "Reason"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      null,
      ...[...r.history].reverse().map((e) =>
        h("tr", null, h("td", null, time(new Date(e.at).toISOString())), h("td", null, h("code", null, `${r.filter}@${e.sha256.slice(0, 8)}`)), h("td", null, badge(e.outcome)), h("td", null, e.reason)),
      ),
    ),
  );
}

interface Card {
  readonly el: HTMLElement;
  readonly body: HTMLElement;
  readonly buttons: Map<Action, HTMLButtonElement>;
  status: RolloutStatus;
}

export function rolloutsPage(root: HTMLElement, ctx: Context): Page {
  const list = h("div", { class: "rollouts" });
  const dialog = h("dialog", { id: "confirm" });
  fill(root, h("h1", null, "Rollouts"), list, dialog);
  const cards = new Map<string, Card>();
  const isNew = changed<RolloutStatus[]>();

  async function act(action: Action, filter: string): Promise<void> {
    const card = cards.get(filter);
    if (!card) return;
    const r = card.status;
    const verb = `${action[0]!.toUpperCase()}${action.slice(1)}`;
    const yes = await confirmDialog(dialog, `${verb} the rollout of ${r.candidate?.plugin ?? r.filter}?`, CONSEQUENCE[action], `${verb} the rollout`, action === "abort");
    if (!yes) return;
    try {
      await postJson(`/v1/rollouts/${encodeURIComponent(filter)}/${action}`);
      ctx.say(`${action}: done for ${filter}`);
      await page.refresh();
    } catch (err) {
      ctx.say(refusal(`${action} for ${filter}`, err, err instanceof ApiError ? err.status : undefined), "error");
    } finally {
      card.buttons.get(action)?.focus();
    }
  }

  function card(r: RolloutStatus): Card {
    const existing = cards.get(r.filter);
    if (existing) return existing;
    const id = `rollout-${r.filter}`;
    const body = h("div");
    const buttons = new Map<Action, HTMLButtonElement>();
    const bar = h("div", { class: "actions", role: "group", "aria-label": `Steer the rollout of ${r.filter}` });
    for (const action of ACTIONS) {
      const b = h("button", { type: "button", class: action === "abort" ? "danger" : "", "data-action": action }, `${action[0]!.toUpperCase()}${action.slice(1)}`);
      b.addEventListener("click", () => {
        act(action, r.filter).catch((err: unknown) => ctx.say(String(err), "error"));
      });
      buttons.set(action, b);
      bar.append(b, " ");
    }
    const el = h("section", { class: "card", "aria-labelledby": id, "data-filter": r.filter }, h("h2", { id }, r.filter), body, bar);
    const c: Card = { el, body, buttons, status: r };
    cards.set(r.filter, c);
    return c;
  }

  const page: Page = {
    async refresh() {
      const { rollouts } = await getJson<{ rollouts: RolloutStatus[] }>("/v1/rollouts");
      const t = Date.now();
      for (const r of rollouts) {
        if (r.state === "idle" && !ctx.samples.get(`rollout candidate ${r.filter}`).length) continue;
        ctx.samples.add(`rollout candidate ${r.filter}`, t, r.nodes.onCandidate);
        ctx.samples.add(`rollout stable ${r.filter}`, t, r.nodes.onStable);
      }
      if (!isNew(rollouts)) return;
      if (rollouts.length === 0) {
        fill(list, h("p", null, "No filter has a rollout plan (rollout: in its config)."));
        cards.clear();
        return;
      }
      for (const name of cards.keys()) if (!rollouts.some((r) => r.filter === name)) cards.delete(name);
      const els: HTMLElement[] = [];
      for (const r of rollouts) {
        const c = card(r);
        c.status = r;
        fill(
          c.body,
          h(
            "p",
            { class: "state" },
            badge(r.state),
            r.candidate ? h("span", null, " candidate ", h("code", null, r.candidate.plugin), ` (settings ${r.candidate.settings})`) : null,
            r.stable ? h("span", null, " · stable ", h("code", null, r.stable.plugin), ` (settings ${r.stable.settings})`) : null,
            r.queued ? h("span", null, " · queued ", h("code", null, r.queued.plugin)) : null,
          ),
          steps(r),
          nodes(r),
          r.state === "idle" && !ctx.samples.get(`rollout candidate ${r.filter}`).length
            ? null
            : lineChart(
                `Nodes per version during the rollout of ${r.filter}`,
                [
                  // Stable first: the same colour and pattern as in the bar above.
                  { label: `stable${r.stable ? ` ${r.stable.plugin}` : ""}`, points: ctx.samples.get(`rollout stable ${r.filter}`) },
                  { label: `candidate${r.candidate ? ` ${r.candidate.plugin}` : ""}`, points: ctx.samples.get(`rollout candidate ${r.filter}`) },
                ],
                "nodes",
              ),
          r.state === "idle" ? null : gates(r),
          history(r),
        );
        for (const [action, b] of c.buttons) b.disabled = !enabled(action, r);
        els.push(c.el);
      }
      // Re-append only when the set or order of cards changed, so focus stays put.
      if (els.length !== list.children.length || els.some((e, i) => list.children[i] !== e)) list.replaceChildren(...els);
    },
  };
  return page;
}
