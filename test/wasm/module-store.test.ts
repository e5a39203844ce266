import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memoryLogger } from "../../src/logger";
import { ModuleStore } from "../../src/wasm/module-store";
import { sha256Hex } from "../../src/vocabulary/sha256";

const moduleBytes = (n = 256) => Buffer.concat([Buffer.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), randomBytes(n)]);

describe("ModuleStore in memory", () => {
  it("keys modules by lowercase hex sha256 of their bytes", async () => {
    const store = new ModuleStore();
    const bytes = moduleBytes();
    const stored = await store.put(bytes);
    expect(stored).toEqual({ sha256: sha256Hex(bytes), size: bytes.length });
    expect(stored.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(store.has(stored.sha256)).toBe(true);
    expect(store.get(stored.sha256)?.equals(bytes)).toBe(true);
    expect(store.list()).toEqual([stored]);
    expect(store.has(stored.sha256.toUpperCase())).toBe(false);
  });

  it("is immutable: put copies, and a second put of the same bytes changes nothing", async () => {
    const store = new ModuleStore();
    const bytes = moduleBytes();
    const original = Buffer.from(bytes);
    const { sha256 } = await store.put(bytes);
    bytes.fill(0);
    expect(store.get(sha256)?.equals(original)).toBe(true);
    await store.put(original);
    expect(store.list()).toHaveLength(1);
  });

  it("deletes and garbage-collects everything outside the retained set", async () => {
    const store = new ModuleStore();
    const a = await store.put(moduleBytes());
    const b = await store.put(moduleBytes());
    const c = await store.put(moduleBytes());
    expect(await store.delete(a.sha256)).toBe(true);
    expect(await store.delete(a.sha256)).toBe(false);
    expect(await store.retainOnly(new Set([c.sha256]))).toEqual([b.sha256]);
    expect(store.list().map((m) => m.sha256)).toEqual([c.sha256]);
  });
});

describe("ModuleStore on disk", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "wasmxds-store-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes <sha256>.wasm atomically and loads it back on open", async () => {
    const bytes = moduleBytes(4096);
    const first = await ModuleStore.open({ dir });
    const { sha256 } = await first.put(bytes);
    expect(await readdir(dir)).toEqual([`${sha256}.wasm`]);
    expect((await readFile(join(dir, `${sha256}.wasm`))).equals(bytes)).toBe(true);

    const second = await ModuleStore.open({ dir });
    expect(second.get(sha256)?.equals(bytes)).toBe(true);
  });

  it("writes a module once when it is put concurrently", async () => {
    const store = await ModuleStore.open({ dir });
    const bytes = moduleBytes();
    const results = await Promise.all([store.put(bytes), store.put(bytes), store.put(bytes)]);
    expect(new Set(results.map((r) => r.sha256)).size).toBe(1);
    expect(await readdir(dir)).toEqual([`${sha256Hex(bytes)}.wasm`]);
  });

  it("skips a corrupt file with a warning, and a later put repairs it", async () => {
    const good = moduleBytes();
    const intended = moduleBytes();
    const intendedSha = sha256Hex(intended);
    await writeFile(join(dir, `${sha256Hex(good)}.wasm`), good);
    // A file whose content does not hash to its name (bit rot, a truncated copy).
    await writeFile(join(dir, `${intendedSha}.wasm`), intended.subarray(0, 10));

    const logger = memoryLogger();
    const store = await ModuleStore.open({ dir, logger });
    expect(store.has(sha256Hex(good))).toBe(true);
    expect(store.has(intendedSha)).toBe(false);
    const warning = logger.records.find((r) => r.level === "warn");
    expect(warning?.msg).toMatch(/corrupt/);
    expect(warning?.fields).toMatchObject({ file: join(dir, `${intendedSha}.wasm`), expected: intendedSha });

    await store.put(intended);
    expect((await readFile(join(dir, `${intendedSha}.wasm`))).equals(intended)).toBe(true);
  });

  it("removes leftovers of interrupted writes and ignores unrelated files", async () => {
    const sha = sha256Hex(moduleBytes());
    await writeFile(join(dir, `.${sha}.wasm.123.abcdef.tmp`), "partial");
    await writeFile(join(dir, "README"), "not a module");
    await writeFile(join(dir, `${sha.toUpperCase()}.wasm`), "wrong spelling");
    const store = await ModuleStore.open({ dir });
    expect(store.list()).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual([`${sha.toUpperCase()}.wasm`, "README"].sort());
  });

  it("deletes files along with entries", async () => {
    const store = await ModuleStore.open({ dir });
    const a = await store.put(moduleBytes());
    const b = await store.put(moduleBytes());
    await store.retainOnly([b.sha256]);
    expect(await readdir(dir)).toEqual([`${b.sha256}.wasm`]);
    expect((await ModuleStore.open({ dir })).has(a.sha256)).toBe(false);
  });

  it("creates a missing directory", async () => {
    const nested = join(dir, "a", "b");
    const store = await ModuleStore.open({ dir: nested });
    const { sha256 } = await store.put(moduleBytes());
    expect(await readdir(nested)).toEqual([`${sha256}.wasm`]);
  });
});
