/**
 * A real browser for the console tests: Debian's chromium (/usr/bin/chromium,
 * installed by .ci/run) driven through playwright-core, never a downloaded
 * browser. The flags keep it off the network (the machine has none: without
 * them Chromium's background connections are refused many at a time).
 * Screenshots go to an artifact folder (WASMXDS_TEST_ARTIFACTS, default
 * /tmp/wasmxds-console).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, type Page, chromium } from "playwright-core";
import { buildConsole } from "../../scripts/build-console.mjs";

export const CHROMIUM = process.env.WASMXDS_CHROMIUM ?? "/usr/bin/chromium";
/** Why browser tests are skipped here, or undefined when they can run. */
export const NO_BROWSER = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set WASMXDS_CHROMIUM)`;
export const ARTIFACTS = process.env.WASMXDS_TEST_ARTIFACTS ?? "/tmp/wasmxds-console";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Builds the console from the current sources (dist/console/), then starts Chromium. */
export async function launchBrowser(): Promise<Browser> {
  await buildConsole();
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** A new page at a laptop's size, failing the test on any script error in the console. */
export async function openConsole(browser: Browser, base: string, hash = "#/fleet"): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(`${base}/${hash}`);
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
