/**
 * Issue 11, item 10 (state half): corrupt state gave raw errors ("Cannot
 * read properties of null"), leftover temporary files of a kill -9 stayed,
 * and unknown shas were accepted silently. Every problem now names the file
 * and the field path; a control plane starts from what can be salvaged
 * (keeping the original as state.json.corrupt-<time>), and refuses only an
 * unreadable file or one from a newer wasmxds, saying what to do.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StateStore } from "../../src/health/state-store";
import { memoryLogger } from "../../src/logger";
import type { RunningWasmxds } from "../../src/main";
import { startTestApp } from "../helpers/app";
import { guardFolder, removeFolder } from "../helpers/config-folder";

const SHA = "a".repeat(64);
const SETTINGS = { kind: "http", rootId: "", failurePolicy: "FAIL_RELOAD", code: "inline", discovery: "ecds" };
const GOOD = { sha256: SHA, key: `${SHA}:0123456789abcdef`, settings: SETTINGS, since: "2025-01-01T00:00:00.000Z" };

describe("reading state.json", () => {
  let dir: string;
  const file = () => join(dir, "state.json");
  const write = (value: unknown) => writeFile(file(), typeof value === "string" ? value : JSON.stringify(value));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "wasmxds-corrupt-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("names the file and the field of a null known-good entry (was: Cannot read properties of null)", async () => {
    await write({ version: 1, filters: { guard: { lastGood: null, quarantined: [] } }, rollouts: {} });
    const store = await StateStore.open(dir);
    expect(store.repairs[0]).toBe(`${file()}: filters.guard.lastGood: expected a mapping, got null (this known-good version and older ones dropped: no rollback to them)`);
    expect(store.get().filters.guard).toEqual({ quarantined: [] });
  });

  it("keeps the valid parts: a chain up to its first bad entry, the good quarantine records, the valid rollout fields", async () => {
    const quarantine = { sha256: SHA, key: GOOD.key, reason: "crashed", at: "t", nodes: ["n1"], signals: [] };
    await write({
      version: 1,
      filters: { guard: { lastGood: { ...GOOD, previous: { ...GOOD, sha256: "nope" } }, quarantined: [quarantine, { ...quarantine, nodes: "n1" }] } },
      rollouts: { guard: { stable: { sha256: SHA, key: GOOD.key, settings: SETTINGS }, active: { id: 5 }, history: [] } },
    });
    const logger = memoryLogger();
    const store = await StateStore.open(dir, { logger });
    expect(store.repairs).toEqual([
      expect.stringContaining(`${file()}: filters.guard.quarantined[1].nodes: expected a list, got "n1" (this quarantine dropped: the version may be served again)`),
      expect.stringContaining(`${file()}: filters.guard.lastGood.previous.sha256: expected 64 lowercase hex characters`),
      expect.stringContaining(`${file()}: rollouts.guard.active.id: expected a string, got 5`),
      expect.stringMatching(/the original is kept as .*state\.json\.corrupt-/),
    ]);
    expect(store.get().filters.guard!.lastGood).toEqual(GOOD);
    expect(store.get().filters.guard!.quarantined).toHaveLength(1);
    expect(store.get().rollouts.guard).toEqual({ stable: { sha256: SHA, key: GOOD.key, settings: SETTINGS }, history: [] });
    expect(logger.records.filter((r) => r.level === "warn")).toHaveLength(4);
    // The repaired state is written back: the next start is clean.
    expect((await StateStore.open(dir)).repairs).toEqual([]);
    expect((await readdir(dir)).filter((f) => f.startsWith("state.json.corrupt-"))).toHaveLength(1);
  });

  it("starts from an empty state when the file is not JSON, keeping a copy", async () => {
    await write('{"version": 1, "filters": {');
    const store = await StateStore.open(dir, { now: () => Date.UTC(2025, 0, 2, 3, 4, 5) });
    expect(store.repairs[0]).toMatch(/state\.json: not valid JSON .* \(starting from an empty state/);
    expect(store.get()).toEqual({ version: 1, filters: {}, rollouts: {} });
    expect(await readdir(dir)).toContain("state.json.corrupt-2025-01-02T03-04-05-000Z");
  });

  it("refuses a state file from a newer wasmxds, and an unreadable one, saying what to do", async () => {
    await write({ version: 2, filters: {} });
    await expect(StateStore.open(dir)).rejects.toThrow(/state\.json: version: 2 was written by a newer wasmxds .*move the file away/);
    await rm(file());
    await mkdir(file());
    await expect(StateStore.open(dir)).rejects.toThrow(/state\.json: cannot read the state file: .*fix its permissions or move it away/);
  });

  it("removes temporary files left by a write interrupted with kill -9", async () => {
    await write({ version: 1, filters: {}, rollouts: {} });
    await writeFile(join(dir, ".state.json.4242.0a1b2c3d4e5f.tmp"), "{ half");
    await writeFile(join(dir, "notes.txt"), "kept");
    await StateStore.open(dir);
    expect((await readdir(dir)).sort()).toEqual(["notes.txt", "state.json"]);
  });
});

describe("a start with damaged state", () => {
  let dir: string | undefined;
  let app: RunningWasmxds | undefined;
  afterEach(async () => {
    await app?.close();
    if (dir) await removeFolder(dir);
    app = dir = undefined;
  });

  it("starts, records each repair as an event, and warns about shas the module store does not hold", async () => {
    dir = await guardFolder({ module: "good_http" });
    const stateDir = join(dir, ".wasmxds");
    await mkdir(stateDir);
    const unknown = "c".repeat(64);
    const quarantine = { sha256: unknown, key: `${unknown}:0123456789abcdef`, reason: "crashed", at: "t", nodes: [], signals: [] };
    await writeFile(join(stateDir, "state.json"), JSON.stringify({ version: 1, filters: { guard: { quarantined: [quarantine, null] } }, rollouts: [] }));
    const logger = memoryLogger();
    app = await startTestApp(dir, { logger });
    expect(app.publisher.published!.modules.has("guard")).toBe(true);
    const repairs = app.events.list({ types: ["state-repaired"] }).map((e) => e.message);
    expect(repairs).toContain(`${join(stateDir, "state.json")}: filters.guard.quarantined[1]: expected a mapping, got null (this quarantine dropped: the version may be served again)`);
    expect(repairs).toContainEqual(expect.stringContaining("rollouts: expected an object"));
    const missing = logger.records.find((r) => r.level === "warn" && r.msg.includes(unknown));
    expect(missing?.msg).toBe(`${join(stateDir, "state.json")}: filters.guard.quarantined[0]: module ${unknown} of filter "guard" is not in the module store; wasmxds serves the best version it still has`);
  });
});
