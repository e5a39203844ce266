/**
 * A crash rollback seen in the console (headless Chromium): three simulated
 * Envoys serve traffic through a version that crashes on its 50th request;
 * the events page, open before it happens, shows the rollback live with its
 * evidence (which signal, from which nodes, which stat), and the fleet page
 * shows the version quarantined with its reason. A page from another origin
 * cannot clear the quarantine (Origin check, no CORS); the console's own
 * button can, after a confirmation. Real time: the rollback is driven by
 * the nodes' stats, as in test/health/rollback-crash.test.ts.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { SimFleet } from "../../src/sim";
import { NO_BROWSER, launchBrowser, openConsole, screenshot } from "../helpers/browser";
import { guardFolder, setGuard } from "../helpers/config-folder";
import { cleanup, runningGuard } from "../helpers/fleet";
import { startTestApp } from "../helpers/app";
import { waitFor } from "../helpers/wait";

describe.skipIf(NO_BROWSER !== undefined)(`console: a crash rollback${NO_BROWSER ? ` (skipped: ${NO_BROWSER})` : ""}`, () => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let base: string;
  let good: string;
  let bad: string;
  let foreign: Server;

  beforeAll(async () => {
    dir = await guardFolder({ module: "good_http", extra: "    smokeTest: true", goodAfter: "30s" });
    app = await startTestApp(dir, { statsPullIntervalMs: 200 });
    base = `http://127.0.0.1:${app.adminAddress!.port}`;
    good = app.publisher.published!.modules.get("guard")!;
    fleet = new SimFleet({ nodes: 3, idPrefix: "c", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, traffic: { rps: 40 }, metricsService: { flushIntervalMs: 250 } });
    await fleet.start();
    await waitFor("fleet LIVE", () => fleet.summary().live === 3, 10_000);
    browser = await launchBrowser();
    ({ page, errors } = await openConsole(browser, base, "#/events"));
    // Another web page the operator might have open: its own origin, a page that tries the admin API.
    foreign = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><title>elsewhere</title><p>another site</p>");
    });
    await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => foreign?.close(resolve));
    await cleanup(fleet, app, dir);
  });

  it("shows the rollback live on the open events page, with its evidence", async () => {
    const list = page.getByRole("list", { name: "Events, newest first" });
    await expect.poll(() => list.locator("li.event").count()).toBeGreaterThan(0);
    bad = await setGuard(dir, { module: "trap_nth_request", configuration: '{"crashAfter":50}', extra: "    smokeTest: true", goodAfter: "30s" });
    expect((await app.reload()).ok).toBe(true);
    await waitFor("rollback on the server", () => app.events.list({ types: ["rollback"] })[0], 20_000);
    const item = list.locator("li.event-rollback");
    await expect.poll(() => item.count(), { timeout: 2000 }).toBe(1);
    expect(await item.locator(".message").innerText()).toMatch(new RegExp(`^guard@${bad.slice(0, 8)} rolled back to guard@${good.slice(0, 8)}: \\d+ crash signal`));
    const evidence = item.locator(".evidence");
    expect(await evidence.innerText()).toMatch(/From nodes: c\d/);
    const rows = await evidence.locator("tbody tr").allInnerTexts();
    expect(rows.length).toBeGreaterThan(0);
    // Each row: the signal, the node, the count, the stat it came from (the bad version's own reload counter).
    for (const r of rows) expect(r).toMatch(new RegExp(`^vm_reload\\w*\\s+c[0-2]\\s+\\d+\\s+wasm\\.guard@${bad.slice(0, 8)}\\.vm_reload`));
    await page.getByLabel("Type").selectOption("rollback");
    await expect.poll(() => list.locator("li.event").count()).toBe(1);
    await screenshot(page, "events-rollback");
    await page.getByLabel("Type").selectOption("");
    expect(errors).toEqual([]);
  });

  it("shows the version quarantined on the fleet page, with its reason", async () => {
    await waitFor("every node back on the good version", () => fleet.nodes.every((n) => runningGuard(n) === good), 10_000);
    await page.getByRole("link", { name: "Fleet" }).click();
    const quarantined = page.locator("ul.quarantined li");
    await expect.poll(() => quarantined.count()).toBe(1);
    expect(await quarantined.innerText()).toMatch(new RegExp(`✕ quarantined guard@${bad.slice(0, 8)} — \\d+ crash signal`));
    const row = page.getByRole("row", { name: new RegExp(`guard@${bad.slice(0, 8)}`) });
    await expect.poll(() => row.innerText()).toMatch(/✕ quarantined/);
    await screenshot(page, "fleet-rollback");
  });

  it("refuses a page from another origin (no CORS, Origin check), and clears the quarantine from the console", async () => {
    const other = await browser.newPage();
    await other.goto(`http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`);
    const tried = await other.evaluate(async (url) => {
      const out: string[] = [];
      // A JSON call needs a CORS preflight, which the admin API never grants.
      try {
        const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
        out.push(`json ${r.status}`);
      } catch (err) {
        out.push(`json blocked: ${(err as Error).name}`);
      }
      // A "simple" cross-site POST goes out without a preflight; the server refuses it (Origin, content type).
      const r = await fetch(url, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: "{}" });
      out.push(`simple ${r.type}`);
      return out;
    }, `${base}/v1/filters/guard/quarantine/clear`);
    await other.close();
    expect(tried).toEqual(["json blocked: TypeError", "simple opaque"]);
    expect(app.versions.quarantined("guard").map((q) => q.sha256)).toEqual([bad]);

    // The folder names the good version again, then the operator clears the quarantine from the console.
    await setGuard(dir, { module: "good_http", extra: "    smokeTest: true", goodAfter: "30s" });
    expect((await app.reload()).ok).toBe(true);
    await page.getByRole("button", { name: `Clear quarantine of guard@${bad.slice(0, 8)}` }).click();
    const dialog = page.getByRole("dialog", { name: `Clear the quarantine of guard@${bad.slice(0, 8)}?` });
    await dialog.getByRole("button", { name: "Clear quarantine" }).click();
    await waitFor("quarantine cleared on the server", () => app.versions.quarantined("guard").length === 0, 2000);
    await expect.poll(() => page.locator("#status").innerText()).toBe(`quarantine of guard@${bad.slice(0, 8)} cleared`);
    await expect.poll(() => page.locator("ul.quarantined").count()).toBe(0);
    expect(app.events.list({ types: ["quarantine-cleared"] })).toHaveLength(1);
  });
});
