/**
 * The console in headless Chromium against a running control plane with 20
 * simulated Envoys and an admin token: the fleet page shows which version
 * runs where; a rollout advancing on the server shows on the open rollouts
 * page within 2 s without a reload; the buttons are reached by keyboard,
 * ask for confirmation, are refused without the token (nothing changes) and
 * abort the rollout with it; the events page follows the log live; the
 * nodes page searches, a NACK shows with Envoy's message, and a node's page
 * explains what it receives; Promote moves a new rollout a step on. Each
 * page passes a small accessibility check (names, labels, ids, headings).
 * The control plane runs on a FakeClock the test advances.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import type { SimFleet } from "../../src/sim";
import type { FakeClock } from "../../src/time/fake-clock";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { NO_BROWSER, launchBrowser, openConsole, screenshot } from "../helpers/browser";
import { advanceUntil, testClock } from "../helpers/clock";
import { makeFolder, rolloutYaml, writeVersion } from "../helpers/config-folder";
import { cleanup, runningGuard, startFleet } from "../helpers/fleet";
import { startTestApp } from "../helpers/app";
import { waitFor } from "../helpers/wait";

const TOKEN = "console-browser-token-0123456789";

/**
 * What a screen reader and a keyboard need of the page shown: every control
 * has an accessible name (a label, text or aria-label), every image-like
 * element (bars, charts) a label, ids are unique, and headings do not skip a
 * level. Returns the problems found (none expected).
 */
async function accessibilityProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const nameOf = (el: Element): string => {
      const labelled = el.getAttribute("aria-labelledby");
      if (labelled) return labelled.split(" ").map((id) => document.getElementById(id)?.textContent ?? "").join(" ").trim();
      const aria = el.getAttribute("aria-label");
      if (aria) return aria.trim();
      if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement) return [...(el.labels ?? [])].map((l) => l.textContent ?? "").join(" ").trim();
      return (el.textContent ?? "").trim();
    };
    for (const el of document.querySelectorAll("button, input, select, a[href]")) {
      if (!nameOf(el)) problems.push(`no accessible name: ${el.outerHTML.slice(0, 80)}`);
    }
    for (const el of document.querySelectorAll('[role="img"]')) {
      if (!nameOf(el)) problems.push(`image without a label: ${el.outerHTML.slice(0, 80)}`);
    }
    const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
    for (const id of new Set(ids)) if (ids.filter((x) => x === id).length > 1) problems.push(`duplicate id ${id}`);
    let last = 1;
    for (const h of document.querySelectorAll("main h1, main h2, main h3, main h4")) {
      const level = Number(h.tagName[1]);
      if (level > last + 1) problems.push(`heading ${h.tagName} "${h.textContent}" skips a level after h${last}`);
      last = level;
    }
    return problems;
  });
}
const STEPS = `        - { nodes: 2, bake: 10s }
        - { percent: 50, bake: 10s }
        - { percent: 100 }`;
/** Live: what the server shows must be on the open page within this, without a reload. */
const LIVE_MS = 2000;

describe.skipIf(NO_BROWSER !== undefined)(`console in Chromium${NO_BROWSER ? ` (skipped: ${NO_BROWSER})` : ""}`, () => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;
  let clock: FakeClock;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let v1: string;
  let v2: string;
  let base: string;

  beforeAll(async () => {
    ({ dir, v1 } = await makeFolder(rolloutYaml({ steps: STEPS })));
    clock = testClock();
    app = await startTestApp(dir, { clock, adminAccess: { token: TOKEN } });
    base = `http://127.0.0.1:${app.adminAddress!.port}`;
    fleet = await startFleet(app.xdsAddress.port);
    browser = await launchBrowser();
    ({ page, errors } = await openConsole(browser, base));
  });
  afterAll(async () => {
    await browser?.close();
    await cleanup(fleet, app, dir);
  });

  it("shows the fleet: each filter's versions as a bar with node counts, health and last known good", async () => {
    const guard = page.getByRole("region", { name: /^guard/ });
    await expect.poll(() => page.locator(".summary").innerText()).toMatch(/^20 nodes connected/);
    await expect.poll(() => guard.getByRole("img", { name: /^guard:/ }).getAttribute("aria-label")).toBe(`guard: guard@${v1.slice(0, 8)} on 16, not selected on 4`);
    const row = guard.getByRole("row", { name: new RegExp(`guard@${v1.slice(0, 8)}`) });
    await expect.poll(() => row.innerText()).toMatch(/16\s+\S*\s*(probation|good)\s+16\s+0\s+0/);
    expect(await guard.locator("dl.facts").innerText()).toMatch(/Quarantined\s+none/);
    expect(await guard.getByRole("img", { name: /^Nodes per version of guard/ }).getAttribute("aria-label")).toBe(`Nodes per version of guard. Latest: guard@${v1.slice(0, 8)}: 16 nodes`);
    await screenshot(page, "fleet");
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("shows a rollout advancing within 2 s, without a reload", async () => {
    await page.getByRole("link", { name: "Rollouts" }).click();
    const card = page.getByRole("region", { name: "guard" });
    await expect.poll(() => card.locator(".state").innerText()).toMatch(/idle/);
    v2 = await writeVersion(dir, "v2", rolloutYaml({ steps: STEPS }));
    expect((await app.reload()).ok).toBe(true);
    await advanceUntil(clock, "two canaries ACKed", () => fleet.nodes.filter((n) => runningGuard(n) === v2).length === 2, { stepMs: 50 });
    await expect.poll(() => card.locator(".state").innerText(), { timeout: LIVE_MS }).toMatch(new RegExp(`running candidate guard@${v2.slice(0, 8)}`));
    await expect.poll(() => card.locator('[aria-current="step"]').innerText(), { timeout: LIVE_MS }).toMatch(/Step 1: 2 nodes/);
    expect(await card.locator(".nodes-text").innerText()).toBe("2 on the candidate, 14 on stable (16 eligible)");
    expect(await card.getByRole("row", { name: /NACKs/ }).innerText()).toMatch(/NACKs\s+0\s+at most 0\s+✓?\s*within/);
    // GET /v1/fleet places the canary group's nodes on the candidate (one explain per snapshot group).
    const fleetView = (await (await fetch(`${base}/v1/fleet`)).json()) as { filters: Array<{ notSelected: number; versions: Array<{ sha256: string; nodes: number }> }> };
    expect(new Map(fleetView.filters[0]!.versions.map((v) => [v.sha256, v.nodes]))).toEqual(
      new Map([
        [v1, 14],
        [v2, 2],
      ]),
    );
    expect(fleetView.filters[0]!.notSelected).toBe(4);
    // The server moves to step 2; the open page follows.
    await advanceUntil(clock, "step 2", () => app.rollouts.rollouts("guard").active?.step === 1, { stepMs: 500 });
    const shownBy = Date.now();
    await expect.poll(() => card.locator('[aria-current="step"]').innerText(), { timeout: LIVE_MS }).toMatch(/Step 2: 50%/);
    expect(Date.now() - shownBy).toBeLessThan(LIVE_MS);
    // The chart of nodes per version during the rollout names its latest values (not only lines in colours).
    const chart = card.getByRole("img", { name: /^Nodes per version during the rollout of guard/ });
    await expect.poll(() => chart.getAttribute("aria-label")).toMatch(new RegExp(`Latest: stable guard@${v1.slice(0, 8)}: \\d+ nodes; candidate guard@${v2.slice(0, 8)}: \\d+ nodes`));
    expect(await card.locator("figure ul.legend").innerText()).toMatch(/stable guard@\S+: \d+ nodes\s+candidate guard@\S+: \d+ nodes/);
    await screenshot(page, "rollouts");
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("reaches the buttons by keyboard, asks first, and is refused without the token (nothing changes)", async () => {
    await page.locator("main h1").focus();
    let focused = "";
    for (let i = 0; i < 40 && focused !== "pause"; i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.action ?? "");
    }
    expect(focused).toBe("pause");
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: /Pause the rollout of guard@/ });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    // Focus starts on Cancel; Escape closes without a call.
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(app.rollouts.rollouts("guard").active?.pausedBakedMs).toBeNull();
    // Confirmed, but no token pasted: the server refuses, the page says why.
    await page.keyboard.press("Enter");
    await dialog.getByRole("button", { name: "Pause the rollout" }).click();
    await expect.poll(() => page.locator("#status").innerText()).toMatch(/pause for guard refused: POST \/v1\/rollouts\/guard\/pause: 401 .*paste the admin token/);
    expect(app.rollouts.rollouts("guard").active?.pausedBakedMs).toBeNull();
    await screenshot(page, "rollouts-refused");
  });

  it("aborts the rollout with the pasted token: server state changes and the page shows it", async () => {
    await page.getByLabel("Admin token").fill(TOKEN);
    await page.getByRole("button", { name: "Use token" }).click();
    expect(await page.evaluate(() => sessionStorage.getItem("wasmxds-admin-token"))).toBe(TOKEN);
    // Not in the page's markup: only in this tab's sessionStorage.
    expect(await page.content()).not.toContain(TOKEN);
    const card = page.getByRole("region", { name: "guard" });
    // Pause and resume with the token: the server's rollout follows each.
    await card.getByRole("button", { name: "Pause" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Pause the rollout" }).click();
    await waitFor("paused on the server", () => app.rollouts.rollouts("guard").active?.pausedBakedMs !== null, LIVE_MS);
    await expect.poll(() => card.locator(".state").innerText(), { timeout: LIVE_MS }).toMatch(/^⏸ paused/);
    expect(await card.getByRole("button", { name: "Pause" }).isDisabled()).toBe(true);
    await card.getByRole("button", { name: "Resume" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Resume the rollout" }).click();
    await waitFor("running again on the server", () => app.rollouts.rollouts("guard").active?.pausedBakedMs === null, LIVE_MS);
    await expect.poll(() => card.locator(".state").innerText(), { timeout: LIVE_MS }).toMatch(/^▶ running/);
    await card.getByRole("button", { name: "Abort" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Abort the rollout" }).click();
    await waitFor("aborted on the server", () => app.rollouts.rollouts("guard").history.at(-1)?.outcome === "aborted", LIVE_MS);
    expect(app.rollouts.rollouts("guard").active).toBeUndefined();
    await expect.poll(() => card.locator(".state").innerText(), { timeout: LIVE_MS }).toMatch(/idle/);
    await expect.poll(() => card.getByRole("table", { name: "History" }).innerText()).toMatch(new RegExp(`guard@${v2.slice(0, 8)}\\s+✕ aborted`));
    await expect.poll(() => page.locator("#status").innerText()).toBe("abort: done for guard");
    await waitFor("every edge node back on v1", () => fleet.nodes.filter((n) => n.identity.cluster === "edge").every((n) => runningGuard(n) === v1), 5000);
  });

  it("follows the event log live and filters it by type", async () => {
    await page.getByRole("link", { name: "Events" }).click();
    const list = page.getByRole("list", { name: "Events, newest first" });
    await expect.poll(() => list.locator("li.event-rollout-aborted").count()).toBe(1);
    expect(await list.locator("li.event-rollout-aborted .cause").innerText()).toBe("operator");
    // Followed over server-sent events (GET /v1/events/stream), not by polling.
    await expect.poll(() => list.getAttribute("data-live")).toBe("stream");
    const before = await list.locator("li.event").count();
    app.events.add("console-test", "test", "an event added while the page is open", { filter: "guard" });
    await expect.poll(() => list.locator("li.event").first().innerText(), { timeout: LIVE_MS }).toMatch(/console-test[\s\S]*an event added while the page is open/);
    expect(await list.locator("li.event").count()).toBe(before + 1);
    await page.getByLabel("Type").selectOption("rollout-aborted");
    await expect.poll(() => list.locator("li.event").count()).toBe(1);
    await page.getByLabel("Type").selectOption("");
    await page.getByLabel("Filter").fill("no-such-filter");
    await expect.poll(() => list.locator("li.event").count()).toBe(0);
    await page.getByLabel("Filter").fill("");
    await screenshot(page, "events");
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it("searches the nodes and explains one node", async () => {
    await page.getByRole("link", { name: "Nodes" }).click();
    await expect.poll(() => page.locator("#node-range").innerText()).toBe("Nodes 1–20 of 20");
    await page.getByLabel("Search").fill("ring=canary");
    await expect.poll(() => page.locator("table.nodes tbody tr").allInnerTexts()).toHaveLength(2);
    expect(await page.locator("#node-range").innerText()).toBe("Nodes 1–2 of 2 matching “ring=canary”");
    await screenshot(page, "nodes");
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole("link", { name: "n3", exact: true }).click();
    await expect.poll(() => page.locator("main h1").innerText()).toBe("Node n3");
    const explain = page.locator("ul.explain");
    await expect.poll(() => explain.innerText()).toMatch(new RegExp(`guard: guard@${v1.slice(0, 8)}`));
    expect(await page.locator("dl.facts").innerText()).toMatch(/Cluster\s+edge/);
    expect(await page.getByRole("row", { name: /^ECDS|^LDS/ }).first().innerText()).toMatch(/none$/);
    await screenshot(page, "node");
    expect(await accessibilityProblems(page)).toEqual([]);
    // A core node: the filter's selector leaves it out, and the page says so.
    await page.goto(`${base}/#/nodes/n17`);
    await expect.poll(() => page.locator("ul.explain").innerText()).toMatch(/guard: not served[\s\S]*selector/);
  });

  it("shows a node's NACK with Envoy's message in the table and on its page", async () => {
    const nacker = new AdsClient(app.xdsAddress.port, { id: "zz-nacker", cluster: "core" });
    try {
      nacker.request({ typeUrl: TYPE_URLS.cluster });
      const cds = await nacker.next(TYPE_URLS.cluster);
      nacker.nack(cds, "", "Proto constraint validation failed (a test NACK)");
      await waitFor("NACK recorded", () => app.xds.streamStatuses().find((st) => st.node?.id === "zz-nacker")?.types.some((t) => t.nack));
      await page.goto(`${base}/#/nodes?q=zz-nacker`);
      const row = page.getByRole("row", { name: /zz-nacker/ });
      await expect.poll(() => row.innerText(), { timeout: LIVE_MS }).toContain(`NACKed ${cds.version_info}: Proto constraint validation failed (a test NACK)`);
      await row.getByRole("link", { name: "zz-nacker" }).click();
      await expect.poll(() => page.getByRole("row", { name: /^CDS/ }).innerText()).toMatch(/NACKed \S+: Proto constraint validation failed \(a test NACK\)$/);
    } finally {
      nacker.close();
    }
  });

  it("promotes a new rollout to its next step from the console", async () => {
    const v3 = await writeVersion(dir, "v3", rolloutYaml({ steps: STEPS }));
    expect((await app.reload()).ok).toBe(true);
    await advanceUntil(clock, "rollout of v3 at step 1", () => app.rollouts.rollouts("guard").active?.candidate.sha256 === v3, { stepMs: 50 });
    await page.goto(`${base}/#/rollouts`);
    const card = page.getByRole("region", { name: "guard" });
    await expect.poll(() => card.locator('[aria-current="step"]').innerText(), { timeout: LIVE_MS }).toMatch(/Step 1: 2 nodes/);
    await card.getByRole("button", { name: "Promote" }).click();
    const dialog = page.getByRole("dialog", { name: `Promote the rollout of guard@${v3.slice(0, 8)}?` });
    expect(await dialog.innerText()).toMatch(/moves to its next step now/);
    await dialog.getByRole("button", { name: "Promote the rollout" }).click();
    await waitFor("step 2 on the server", () => app.rollouts.rollouts("guard").active?.step === 1, LIVE_MS);
    await expect.poll(() => card.locator('[aria-current="step"]').innerText(), { timeout: LIVE_MS }).toMatch(/Step 2: 50%/);
    expect(app.events.list({ types: ["rollout-step"] }).at(-1)?.cause).toBe("operator");
  });
});
