/**
 * Regression: a half-written wasmxds.yaml (a save that left only
 * `filters:`) was accepted, and every listener and cluster was pulled from
 * the fleet. Such a version is now refused unless confirmed
 * (`server.allowEmpty: true`, or --allow-empty), the running snapshot is
 * kept, and the watcher waits for wasmxds.yaml to settle like modules.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import type { PublisherEvent } from "../../src/control/publisher";
import { checkRemovals } from "../../src/control/removal-guard";
import { ConfigError } from "../../src/errors";
import type { RunningWasmxds, WasmxdsOptions } from "../../src/main";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient, resourcesOf } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";
import { startCli } from "../helpers/cli-process";
import { EXAMPLE_CONFIG } from "../helpers/wasm-bytes";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A config with these listeners (tcp, each to the first cluster) and clusters, and no filters. */
function config(listeners: readonly string[], clusters: readonly string[], server = ""): string {
  return [
    server,
    "listeners:",
    ...listeners.map((l, i) => `  - { name: ${l}, address: 127.0.0.1:${20000 + i}, tcp: { filters: [], cluster: ${clusters[0] ?? "none"} } }`),
    "clusters:",
    ...clusters.map((c) => `  - { name: ${c}, endpoints: ["127.0.0.1:8080"] }`),
  ].join("\n");
}

function refusal(before: string, after: string, flag = false): string | undefined {
  try {
    checkRemovals(parseConfig(before), parseConfig(after), { fileName: "wasmxds.yaml", allowEmptyFlag: flag });
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe("CONFIG_REMOVAL_UNCONFIRMED");
    return (err as ConfigError).message;
  }
}

describe("the removal guard's rule", () => {
  it("refuses removing every listener and cluster, naming them and how to confirm", () => {
    const why = refusal(config(["a", "b"], ["c"]), "filters:\n");
    expect(why).toMatch(/^wasmxds\.yaml: refused because it removes every listener and every cluster \(would remove listeners a, b and clusters c\)/);
    expect(why).toMatch(/server\.allowEmpty: true/);
    expect(why).toMatch(/--allow-empty/);
  });

  it("refuses removing every listener, or every cluster, even in a one-listener dev config", () => {
    expect(refusal(config(["a"], ["c"]), "listeners: []\nclusters: [{ name: c, endpoints: ['127.0.0.1:1'] }]")).toMatch(/removes every listener \(would remove listeners a\)/);
    expect(refusal(config([], ["c"]), "clusters: []")).toMatch(/removes every cluster/);
  });

  it("lets small configs rename and replace (fewer than 4 served)", () => {
    expect(refusal(config(["a"], ["c"]), config(["renamed"], ["other"]))).toBeUndefined();
    expect(refusal(config(["a", "b"], ["c"]), config(["x", "y"], ["z"]))).toBeUndefined();
  });

  it("refuses removing more than half of 4 or more, allows half", () => {
    const served = config(["a", "b", "d"], ["c", "e"]);
    expect(refusal(served, config(["a", "b"], ["c"]))).toBeUndefined(); // 2 of 5 removed
    expect(refusal(served, config(["a"], ["c"]))).toMatch(/removes 3 of the 5 listeners and clusters served \(more than half\)/);
  });

  it("accepts anything when confirmed in the file or by the flag, and anything on the first publish", () => {
    expect(refusal(config(["a"], ["c"]), "server: { allowEmpty: true }\nfilters:\n")).toBeUndefined();
    expect(refusal(config(["a"], ["c"]), "filters:\n", true)).toBeUndefined();
    expect(() => checkRemovals(undefined, parseConfig("filters:\n"), { fileName: "wasmxds.yaml" })).not.toThrow();
    // false is not a confirmation.
    expect(refusal(config(["a"], ["c"]), "server: { allowEmpty: false }\nfilters:\n")).toMatch(/refused/);
  });
});

describe("a half-written wasmxds.yaml in a watched folder", () => {
  let dir: string;
  let app: RunningWasmxds | undefined;
  let events: PublisherEvent[];
  const yamlPath = () => join(dir, "wasmxds.yaml");

  async function start(extra: Partial<WasmxdsOptions> = {}): Promise<RunningWasmxds> {
    dir = mkdtempSync(join(tmpdir(), "wasmxds-empty-"));
    cpSync(EXAMPLE_CONFIG, dir, { recursive: true });
    events = [];
    app = await startTestApp(dir, { watch: true, watchTiming: { stabilityMs: 80, debounceMs: 20 }, checkModule: async () => ({ ok: true }), ...extra });
    app.publisher.events.on((e) => events.push(e));
    return app;
  }

  afterEach(async () => {
    await app?.close();
    app = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const published = () => events.filter((e) => e.kind === "published");
  const rejected = () => events.filter((e) => e.kind === "rejected");

  it("refuses a save that left only `filters:`, keeps serving every listener, and records why", async () => {
    const running = await start();
    const version = running.publisher.published?.snapshot.version;
    const client = new AdsClient(running.xdsAddress.port, { id: "envoy-1" });
    try {
      client.request({ typeUrl: TYPE_URLS.listener });
      const lds = await client.next(TYPE_URLS.listener);
      client.ack(lds);
      expect(resourcesOf(lds).map((r) => r.name).sort()).toEqual(["ingress", "tcp-in"]);

      const full = readFileSync(yamlPath(), "utf8");
      writeFileSync(yamlPath(), full.slice(0, full.indexOf("listeners:")));
      await expect.poll(rejected, { timeout: 5000 }).toHaveLength(1);
      const event = running.events.list({ types: ["rejected"] })[0];
      expect(event?.message).toMatch(/removes every listener and every cluster \(would remove listeners ingress, tcp-in and clusters backend\)/);
      expect(event?.details).toMatchObject({ stage: "config", keptVersion: version });
      expect(running.publisher.published?.snapshot.version).toBe(version);
      // The Envoy is told nothing: no response removing its listeners.
      expect(await client.drain(300)).toEqual([]);

      // The rest of the save arrives: the same config, nothing to publish, nothing refused.
      writeFileSync(yamlPath(), full);
      await sleep(400);
      expect(rejected()).toHaveLength(1);
      expect(published()).toHaveLength(0);
    } finally {
      client.close();
    }
  });

  it("publishes the emptying version when the file confirms it with server.allowEmpty: true", async () => {
    const running = await start();
    writeFileSync(yamlPath(), "server:\n  allowEmpty: true\nfilters:\n");
    await expect.poll(published, { timeout: 5000 }).toHaveLength(1);
    expect(rejected()).toHaveLength(0);
    expect(running.publisher.published?.loaded.config.listeners).toEqual([]);
  });

  it("publishes it when started with allowEmpty (--allow-empty)", async () => {
    const running = await start({ allowEmpty: true });
    writeFileSync(yamlPath(), "filters:\n");
    await expect.poll(published, { timeout: 5000 }).toHaveLength(1);
    expect(running.publisher.published?.loaded.config.clusters).toEqual([]);
  });

  it("waits for wasmxds.yaml to settle: truncate, then write in pieces, is one publish and no refusal", async () => {
    await start();
    const full = readFileSync(yamlPath(), "utf8").replace("value: hello", "value: settled");
    const bytes = Buffer.from(full);
    const fh = await open(yamlPath(), "r+");
    await fh.truncate(0);
    // An editor flushing its buffer: pieces a few ms apart, well inside the stability window.
    const piece = Math.ceil(bytes.length / 6);
    for (let at = 0; at < bytes.length; at += piece) {
      await fh.write(bytes, at, Math.min(piece, bytes.length - at), at);
      await fh.sync();
      await sleep(15);
    }
    await fh.close();
    await expect.poll(published, { timeout: 5000 }).toHaveLength(1);
    await sleep(400);
    expect(published()).toHaveLength(1);
    expect(rejected()).toEqual([]);
  });

  it("a save interrupted longer than the stability window is refused midway, then published whole", async () => {
    const running = await start();
    const full = readFileSync(yamlPath(), "utf8").replace("value: hello", "value: slow");
    const fh = await open(yamlPath(), "r+");
    await fh.truncate(0);
    const half = Buffer.from(full.slice(0, full.indexOf("listeners:")));
    await fh.write(half, 0, half.length, 0);
    await expect.poll(rejected, { timeout: 5000 }).toHaveLength(1);
    expect(running.events.list({ types: ["rejected"] })[0]?.message).toMatch(/refused because it removes every listener/);
    const rest = Buffer.from(full.slice(half.length));
    await fh.write(rest, 0, rest.length, half.length);
    await fh.close();
    await expect.poll(published, { timeout: 5000 }).toHaveLength(1);
    expect(running.publisher.published?.loaded.config.listeners.map((l) => l.name)).toEqual(["ingress", "tcp-in"]);
  });
});

describe("wasmxds dev --allow-empty (a real process)", () => {
  it("accepts the flag and publishes an emptying save", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wasmxds-empty-cli-"));
    cpSync(EXAMPLE_CONFIG, dir, { recursive: true });
    const zero = "127.0.0.1:0";
    const cli = startCli(["serve", "--watch", "--allow-empty", "-c", dir, "--xds-address", zero, "--modules-address", zero, "--admin-address", "off", "--state-dir", "off"]);
    try {
      await cli.waitFor((l) => l.msg === "wasmxds ready");
      writeFileSync(join(dir, "wasmxds.yaml"), "filters:\n");
      await cli.waitFor((l) => l.msg === "published configuration");
      expect(cli.lines.filter((l) => String(l.msg).startsWith("configuration rejected"))).toEqual([]);
    } finally {
      await cli.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
