import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SnapshotCache } from "../../src/cache/snapshot-cache";
import { Publisher } from "../../src/control/publisher";
import { ConfigError } from "../../src/errors";
import { memoryLogger } from "../../src/logger";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { ModuleStore } from "../../src/wasm/module-store";
import { RemoteModuleResolver } from "../../src/wasm/remote-fetch";

const EXAMPLE = join(import.meta.dirname, "../../config");

describe("Publisher", () => {
  let dir: string;
  let cache: SnapshotCache;
  let store: ModuleStore;
  let publisher: Publisher;
  let logger: ReturnType<typeof memoryLogger>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "wasmxds-pub-"));
    cpSync(EXAMPLE, dir, { recursive: true });
    logger = memoryLogger();
    cache = new SnapshotCache({ logger });
    store = new ModuleStore({ logger });
    publisher = new Publisher({
      configDir: dir,
      cache,
      store,
      resolver: new RemoteModuleResolver(store),
      moduleServer: { host: "127.0.0.1", port: 18002 },
      logger,
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("publishes the folder and puts every module in the store", async () => {
    const r = await publisher.reload();
    expect(r.ok).toBe(true);
    expect(cache.getDefaultSnapshot()).toBeDefined();
    expect(store.list()).toHaveLength(2);
  });

  it("never replaces a good configuration with a bad file, and names the file and field", async () => {
    const first = await publisher.reload();
    if (!first.ok) throw first.error;
    const yaml = readFileSync(join(dir, "wasmxds.yaml"), "utf8");
    writeFileSync(join(dir, "wasmxds.yaml"), yaml.replace("cluster: backend\n\nclusters", "cluster: nowhere\n\nclusters"));
    const bad = await publisher.reload();
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.error).toBeInstanceOf(ConfigError);
    expect(bad.error.message).toMatch(/^wasmxds\.yaml: listeners\[1\]\.tcp\.cluster: .*nowhere/m);
    expect(cache.getDefaultSnapshot()).toBe(first.snapshot);
    expect(logger.records.some((l) => l.level === "error" && /keeping version/.test(l.msg))).toBe(true);
  });

  it("refuses a module its checker rejects, keeping the running snapshot", async () => {
    const first = await publisher.reload();
    if (!first.ok) throw first.error;
    const strict = new Publisher({
      configDir: dir,
      cache,
      store,
      resolver: new RemoteModuleResolver(store),
      moduleServer: { host: "127.0.0.1", port: 18002 },
      logger,
      checkModule: async (filter) => (filter.name === "conn-guard" ? { ok: false, reason: "on_configure returned false" } : { ok: true }),
    });
    const r = await strict.reload();
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.stage).toBe("module");
    expect(r.error.message).toMatch(/filter "conn-guard": module [0-9a-f]{8} rejected: on_configure returned false/);
    expect(cache.getDefaultSnapshot()).toBe(first.snapshot);
  });

  it("reports only the changed types when a module changes", async () => {
    const first = await publisher.reload();
    if (!first.ok) throw first.error;
    const wasm = readFileSync(join(dir, "modules/add_header.wasm"));
    // A custom section changes the bytes (and sha256) without changing behaviour.
    const custom = Buffer.from([0, 5, 1, 0x78, 1, 2, 3]);
    writeFileSync(join(dir, "modules/add_header.wasm"), Buffer.concat([wasm, custom]));
    const second = await publisher.reload();
    if (!second.ok) throw second.error;
    expect(second.changedTypes).toEqual([TYPE_URLS.extensionConfig]);
  });
});
