/**
 * Issue 11, item 2: a rollback to a module that was garbage-collected.
 * With A known-good, then B known-good (A its fallback), then two unrelated
 * edits, the store dropped A while the known-good chain still named it; when
 * B crashed the rollback failed and the next start refused to boot. Now
 * everything the state names is pinned, and a start that finds a module
 * missing says so and serves the best version it still has.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { settingsOf } from "../../src/config/filter-version";
import { memoryLogger } from "../../src/logger";
import type { RunningWasmxds } from "../../src/main";
import { SimFleet } from "../../src/sim";
import { FIXTURES } from "../helpers/wasm-bytes";
import { startTestApp } from "../helpers/app";
import { guardFolder, guardYaml, setGuard } from "../helpers/config-folder";
import { cleanup, runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { sha256Hex } from "../../src/vocabulary/sha256";

const running = (fleet: SimFleet) => fleet.nodes.map(runningGuard);

describe("rollback to a known-good version after unrelated edits (GC pinning)", () => {
  let dir: string | undefined;
  let app: RunningWasmxds | undefined;
  let fleet: SimFleet | undefined;

  afterEach(async () => {
    await cleanup(fleet, app, dir);
    fleet = app = dir = undefined;
  });

  it("keeps every known-good module, rolls back to A after B crashes, and restarts", async () => {
    dir = await guardFolder({ module: "good_http" });
    app = await startTestApp(dir);
    const a = app.publisher.published!.modules.get("guard")!;
    fleet = new SimFleet({ nodes: 1, idPrefix: "g", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, metricsService: { flushIntervalMs: 100 } });
    await fleet.start();
    await waitFor("fleet LIVE", () => fleet!.summary().live === 1, 10_000);

    // B: serves fine until a request carries x-crash; it earns known-good status.
    const b = await setGuard(dir, { module: "trap_on_header" });
    expect((await app.reload()).ok).toBe(true);
    await waitFor("B known-good", () => app!.versions.lastGood("guard")?.sha256 === b, 10_000);
    expect(app.versions.knownGood("guard").map((g) => g.sha256)).toEqual([b, a]);

    // Two unrelated edits: a cluster endpoint changes twice.
    const yaml = guardYaml({ module: "trap_on_header" });
    for (const port of [8081, 8082]) {
      await writeFile(join(dir, "wasmxds.yaml"), yaml.replace("127.0.0.1:8080", `127.0.0.1:${port}`));
      expect((await app.reload()).ok).toBe(true);
    }
    // Before the fix the store kept only the current, the previous config's and the newest known-good module.
    expect(app.store.has(a)).toBe(true);

    // The first request crashes the VM; FAIL_RELOAD reloads it on the next one (vm_reload_success).
    fleet.nodes[0]!.sendHttp({ headers: { "x-crash": "1" } });
    fleet.nodes[0]!.sendHttp();
    fleet.nodes[0]!.flushMetrics();
    const rollback = await waitFor("rollback", () => app!.events.list({ types: ["rollback"] })[0], 10_000);
    expect(rollback.message).toMatch(new RegExp(`^guard@${b.slice(0, 8)} rolled back to guard@${a.slice(0, 8)}`));
    await waitFor("node back on A", () => running(fleet!).every((s) => s === a), 10_000);
    expect(app.publisher.published!.modules.get("guard")).toBe(a);

    // Restart on the same state: it boots and serves A, never the quarantined B.
    await fleet.stop();
    fleet = undefined;
    await app.close();
    app = await startTestApp(dir);
    expect(app.publisher.published!.modules.get("guard")).toBe(a);
    expect(app.versions.isQuarantined("guard", app.versions.quarantined("guard")[0]!.key)).toBe(true);
  }, 40_000);

  it("pins every entry of the known-good chain and every quarantined version", async () => {
    dir = await guardFolder({ module: "good_http" });
    app = await startTestApp(dir);
    const a = app.publisher.published!.modules.get("guard")!;
    const b = await setGuard(dir, { module: "trap_on_header" });
    expect((await app.reload()).ok).toBe(true);
    const bServed = app.publisher.published!.served.get("guard")!;
    app.versions.markGood("guard", { sha256: b, key: bServed.key, settings: settingsOf(bServed.filter) });
    const q = sha256Hex(await readFile(join(FIXTURES, "trap_nth_request.wasm")));
    await app.versions.quarantine("guard", { sha256: q, key: `${q}:0000000000000000`, reason: "t", at: "", nodes: [], signals: [] });
    expect(new Set(app.versions.pinned())).toEqual(new Set([b, a, q]));
  });

  it("starts when a known-good module is missing, warning and serving the newest one it still has", async () => {
    dir = await guardFolder({ module: "good_http" });
    app = await startTestApp(dir);
    const a = app.publisher.published!.served.get("guard")!;
    await app.close();
    app = undefined;
    // B is quarantined; the chain is [X, A] and X's module is gone from the store.
    const b = await setGuard(dir, { module: "trap_on_header" });
    const x = sha256Hex(await readFile(join(FIXTURES, "trap_nth_request.wasm")));
    const settings = settingsOf(a.filter);
    const bKey = `${b}:${a.key.split(":")[1]}`;
    const stateFile = join(dir, ".wasmxds", "state.json");
    await writeFile(
      stateFile,
      JSON.stringify({
        version: 1,
        filters: {
          guard: {
            lastGood: { sha256: x, key: `${x}:${a.key.split(":")[1]}`, settings, since: "2025-01-01T00:00:00Z", previous: { sha256: a.module.sha256, key: a.key, settings, since: "2025-01-01T00:00:00Z" } },
            quarantined: [{ sha256: b, key: bKey, reason: "crashed", at: "2025-01-01T00:00:00Z", nodes: ["n1"], signals: [] }],
          },
        },
        rollouts: {},
      }),
    );
    await rm(join(dir, ".wasmxds", "modules", `${x}.wasm`), { force: true });
    const logger = memoryLogger();
    app = await startTestApp(dir, { logger });
    expect(app.publisher.published!.modules.get("guard")).toBe(a.module.sha256);
    const warning = logger.records.find((r) => r.level === "warn" && r.msg.includes(x));
    expect(warning?.msg).toContain(stateFile);
    expect(warning?.msg).toContain('filter "guard"');
    expect(app.events.list({ types: ["state-module-missing"] }).length).toBeGreaterThan(0);
  });
});
