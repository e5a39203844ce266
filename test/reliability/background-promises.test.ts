/**
 * Issue 11, item 9: promises nobody awaited. A state write that failed
 * during a rollback rejected with no handler and Node exited 1 (reproduced
 * by removing the state folder under a running server). Background work
 * now goes through runInBackground, which logs and records the failure;
 * the rollback happens in memory and on the fleet regardless. (An
 * unhandled rejection would also fail this test run: vitest reports them.)
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BACKGROUND_FAILURE, runInBackground } from "../../src/background";
import { EventLog } from "../../src/events/event-log";
import { memoryLogger } from "../../src/logger";
import type { RunningWasmxds } from "../../src/main";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";
import { guardFolder, removeFolder, setGuard } from "../helpers/config-folder";
import { waitFor } from "../helpers/wait";

describe("runInBackground", () => {
  it("logs and records a rejection and a synchronous throw", async () => {
    const logger = memoryLogger();
    const events = new EventLog();
    runInBackground(Promise.reject(new Error("disk full")), "saving state", { logger, events });
    runInBackground(() => {
      throw new Error("bug");
    }, "a tick", { logger, events });
    await new Promise((r) => setTimeout(r, 0));
    expect(events.list({ types: [BACKGROUND_FAILURE] }).map((e) => e.message)).toEqual(["a tick failed: bug", "saving state failed: disk full"]);
    expect(logger.records.filter((r) => r.level === "error")).toHaveLength(2);
  });
});

describe("a state write failing during a rollback", () => {
  let dir: string | undefined;
  let stateDir: string | undefined;
  let app: RunningWasmxds | undefined;
  let client: AdsClient | undefined;

  afterEach(async () => {
    client?.close();
    await app?.close();
    if (dir) await removeFolder(dir);
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    client = app = dir = stateDir = undefined;
  });

  /** A: known-good baseline, held by one ADS client; B published and pushed to it. Returns the response carrying B. */
  async function serveB(logger = memoryLogger()) {
    dir = await guardFolder({ module: "good_http" });
    stateDir = await mkdtemp(join(tmpdir(), "wasmxds-bg-state-"));
    app = await startTestApp(dir, { stateDir, logger });
    const a = app.publisher.published!.modules.get("guard")!;
    client = new AdsClient(app.xdsAddress.port, { id: "edge-1", cluster: "edge" });
    client.request({ typeUrl: TYPE_URLS.extensionConfig, names: ["guard"] });
    client.ack(await client.next(TYPE_URLS.extensionConfig), ["guard"]);
    const b = await setGuard(dir, { module: "trap_on_header" });
    expect((await app.reload()).ok).toBe(true);
    const pushB = await client.next(TYPE_URLS.extensionConfig);
    return { a, b, pushB, logger };
  }

  it("rolls back in memory and on the node, and logs and records the failed write", async () => {
    const { a, b, pushB, logger } = await serveB();
    // The state folder becomes a file: every write fails (as root, permissions would not stop it).
    await rm(stateDir!, { recursive: true, force: true });
    await writeFile(stateDir!, "not a folder");
    client!.nack(pushB, "", `Unable to create Wasm plugin guard@${b.slice(0, 8)}`, ["guard"]);
    await waitFor("rollback", () => app!.events.list({ types: ["rollback"] })[0]);
    expect(app!.versions.quarantined("guard").map((q) => q.sha256)).toEqual([b]);
    await waitFor("A served again", () => app!.publisher.published!.modules.get("guard") === a);
    const failure = await waitFor("failure recorded", () => app!.events.list({ types: [BACKGROUND_FAILURE] }).find((e) => e.message.includes("quarantine")));
    expect(failure.message).toMatch(/^saving the quarantine of guard@[0-9a-f]{8} to the state file failed: /);
    expect(logger.records.some((r) => r.level === "error" && r.msg.startsWith("saving the quarantine of guard@"))).toBe(true);
    // The node is told: the next ECDS response carries A again.
    const back = await client!.next(TYPE_URLS.extensionConfig);
    expect(back.version_info).not.toBe(pushB.version_info);
  });

  it("recreates a state folder removed under the running server", async () => {
    const { b, pushB } = await serveB();
    await rm(stateDir!, { recursive: true, force: true });
    client!.nack(pushB, "", `Unable to create Wasm plugin guard@${b.slice(0, 8)}`, ["guard"]);
    await waitFor("rollback", () => app!.events.list({ types: ["rollback"] })[0]);
    await app!.state.flush();
    await waitFor("state written", () => existsSync(join(stateDir!, "state.json")));
    const saved = JSON.parse(await readFile(join(stateDir!, "state.json"), "utf8")) as { filters: { guard: { quarantined: Array<{ sha256: string }> } } };
    expect(saved.filters.guard.quarantined.map((q) => q.sha256)).toEqual([b]);
  });
});
