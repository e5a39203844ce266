/**
 * The watched-folder loop end to end: files written the way editors and
 * build tools write them; exactly one new version per change; a
 * half-written or broken module is never published; unchanged bytes do not
 * bump a version; the connected client gets only the changed ECDS resource.
 */
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PublisherEvent } from "../../src/control/publisher";
import type { RunningWasmxds } from "../../src/main";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";
import { EXAMPLE_CONFIG, fixture, variant } from "../helpers/wasm-bytes";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("watch mode", () => {
  let dir: string;
  let app: RunningWasmxds;
  let events: PublisherEvent[];
  const modulePath = () => join(dir, "modules/add_header.wasm");
  const original = () => readFileSync(join(EXAMPLE_CONFIG, "modules/add_header.wasm"));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "wasmxds-watch-"));
    cpSync(EXAMPLE_CONFIG, dir, { recursive: true });
    events = [];
    app = await startTestApp(dir, { adminAddress: null, watch: true, watchTiming: { stabilityMs: 60, debounceMs: 20 } });
    app.publisher.events.on((e) => events.push(e));
  });

  afterEach(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const publishedShas = () =>
    events.flatMap((e) => (e.kind === "published" ? [e.modules.get("add-header")!] : []));
  const rejections = () => events.filter((e) => e.kind === "rejected");

  it("publishes exactly one version for an in-place rewrite (truncate, then write)", async () => {
    const next = variant(original(), "in-place");
    const fh = await open(modulePath(), "r+");
    await fh.truncate(0);
    await fh.write(next, 0, next.length, 0);
    await fh.close();
    await expect.poll(publishedShas, { timeout: 5000 }).toEqual([sha256Hex(next)]);
    await sleep(300);
    expect(publishedShas()).toEqual([sha256Hex(next)]);
  });

  it("publishes exactly one version for write-to-temp-then-rename", async () => {
    const next = variant(original(), "rename");
    writeFileSync(join(dir, "modules/.add_header.wasm.tmp"), next);
    renameSync(join(dir, "modules/.add_header.wasm.tmp"), modulePath());
    await expect.poll(publishedShas, { timeout: 5000 }).toEqual([sha256Hex(next)]);
    await sleep(300);
    expect(publishedShas()).toEqual([sha256Hex(next)]);
  });

  it("coalesces a burst of writes into one version: the last one", async () => {
    const versions = [1, 2, 3, 4, 5].map((i) => variant(original(), `burst-${i}`));
    for (const v of versions) {
      writeFileSync(modulePath(), v);
      await sleep(10);
    }
    const last = sha256Hex(versions.at(-1)!);
    await expect.poll(publishedShas, { timeout: 5000 }).toEqual([last]);
    await sleep(300);
    expect(publishedShas()).toEqual([last]);
  });

  it("never publishes a half-written module", async () => {
    const next = variant(original(), "slow-writer");
    const half = next.subarray(0, Math.floor(next.length / 2));
    const fh = await open(modulePath(), "w");
    await fh.write(half);
    // Long enough for the half file to look stable to the watcher.
    await sleep(250);
    await fh.write(next.subarray(half.length));
    await fh.close();
    await expect.poll(publishedShas, { timeout: 5000 }).toEqual([sha256Hex(next)]);
    expect(publishedShas()).not.toContain(sha256Hex(half));
    expect(app.checks.rejected().map((r) => r.sha256)).toContain(sha256Hex(half));
  });

  it("does not bump a version when the same bytes are saved again", async () => {
    writeFileSync(modulePath(), original());
    await sleep(500);
    expect(publishedShas()).toEqual([]);
  });

  it("keeps the last good module when a broken one is saved, and does not retry the same bad bytes", async () => {
    const good = app.publisher.published!.modules.get("add-header");
    writeFileSync(modulePath(), fixture("trap_first_request"));
    await expect.poll(() => rejections().length, { timeout: 5000 }).toBe(1);
    expect(app.publisher.published!.modules.get("add-header")).toBe(good);
    const checksBefore = app.checks.history("add-header").length;
    // Re-save the same bad bytes: rejected again from the remembered verdict, not re-run.
    writeFileSync(modulePath(), Buffer.from(fixture("trap_first_request")));
    await sleep(100);
    writeFileSync(modulePath(), original());
    await sleep(400);
    writeFileSync(modulePath(), fixture("trap_first_request"));
    await expect.poll(() => rejections().length, { timeout: 5000 }).toBe(2);
    expect(app.checks.history("add-header").length).toBe(checksBefore);
    expect(app.publisher.published!.modules.get("add-header")).toBe(good);
  });

  it("handles YAML changes, a new module file, a deleted file and a rename", async () => {
    const yaml = readFileSync(join(dir, "wasmxds.yaml"), "utf8");
    // New file + YAML pointing at it.
    const next = variant(original(), "new-file");
    writeFileSync(join(dir, "modules/add_header_v2.wasm"), next);
    writeFileSync(join(dir, "wasmxds.yaml"), yaml.replace("modules/add_header.wasm", "modules/add_header_v2.wasm"));
    await expect.poll(publishedShas, { timeout: 5000 }).toEqual([sha256Hex(next)]);
    // Deleting the referenced file: rejected with the file named; the last good config keeps serving.
    unlinkSync(join(dir, "modules/add_header_v2.wasm"));
    await expect.poll(() => rejections().length, { timeout: 5000 }).toBe(1);
    const rejected = rejections()[0];
    expect(rejected?.kind === "rejected" && rejected.message).toMatch(/add_header_v2\.wasm/);
    expect(app.publisher.published!.modules.get("add-header")).toBe(sha256Hex(next));
    // A rename brings it back.
    const third = variant(original(), "renamed");
    writeFileSync(join(dir, "modules/elsewhere.wasm"), third);
    renameSync(join(dir, "modules/elsewhere.wasm"), join(dir, "modules/add_header_v2.wasm"));
    await expect.poll(publishedShas, { timeout: 5000 }).toEqual([sha256Hex(next), sha256Hex(third)]);
  });

  it("changes only the filter's ECDS resource for a connected client", async () => {
    const client = new AdsClient(app.xdsAddress.port, { id: "watcher-client" });
    try {
      client.request({ typeUrl: TYPE_URLS.listener });
      const lds = await client.next(TYPE_URLS.listener);
      client.ack(lds);
      client.request({ typeUrl: TYPE_URLS.extensionConfig, names: ["add-header", "conn-guard"] });
      const ecds = await client.next(TYPE_URLS.extensionConfig);
      client.ack(ecds, ["add-header", "conn-guard"]);
      await expect.poll(() => app.xds.streamStatuses()[0]?.types.filter((t) => t.acked).length).toBe(2);
      writeFileSync(modulePath(), variant(original(), "ecds-only"));
      const update = await client.next(undefined, 5000);
      expect(update.type_url).toBe(TYPE_URLS.extensionConfig);
      expect(update.version_info).not.toBe(ecds.version_info);
      expect(await client.drain(300)).toEqual([]);
    } finally {
      client.cancel();
    }
  });
});
