/**
 * A remote-code ECDS hot swap end to end (issue 12 point 1; docs/HEALTH.md,
 * "Remote code over ECDS"): the real control plane and simulated Envoys
 * that follow Envoy's createWasm (nack_on_code_cache_miss: a cache miss is
 * NACKed while the module is fetched in the background; an identical
 * re-push is skipped by hash). Each node NACKs the new version once as a
 * cache miss, fetches it from wasmxds's module server, is pushed a config
 * that differs only in the URI's query, loads it from its cache and ACKs:
 * no quarantine, no rollback, and the version becomes known-good from those
 * ACKs. A module that fails to load from the cache NACKs with no fetch, and
 * that NACK is a real one: quarantine and rollback. Regression: every
 * cache-miss NACK counted as a bad version (with maxNacks 0 the first swap
 * was rolled back), and nothing was pushed again, so no node ever ran it.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CACHE_MISS_LIMITS } from "../../src/health/cache-miss";
import type { RunningWasmxds } from "../../src/main";
import { FakeClock, SimFleet, type SimNode } from "../../src/sim";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { startTestApp } from "../helpers/app";
import { fixture, variant } from "../helpers/wasm-bytes";
import { guardConfig, removeFolder, tempConfigFolder, writeGuard } from "../helpers/config-folder";
import { runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { XDS_APIS } from "../helpers/xds-apis";

const NODES = 3;

function yaml(configuration = "{}"): string {
  return guardConfig(["code: remote", "discovery: ecds", "preflight: false", `configuration: ${configuration}`, "health: { maxNacks: 0, goodAfter: 1s }"]);
}

const nacksOf = (n: SimNode, sha: string) => n.nacks().filter((x) => x.message === `Unable to create Wasm plugin guard@${sha.slice(0, 8)}`).length;

describe.each(XDS_APIS)("remote-code ECDS hot swap (%s xDS)", (xdsApi) => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;
  const clock = new FakeClock();
  const v1 = variant(fixture("good_http"), "v1");
  const v2 = variant(fixture("good_http"), "v2");
  const v3 = variant(fixture("configure_false"), "v3");

  beforeAll(async () => {
    dir = await tempConfigFolder({ "modules/guard.wasm": v1, "wasmxds.yaml": yaml() }, "wasmxds-remote-ecds-");
    app = await startTestApp(dir, { clock });
    fleet = new SimFleet({ nodes: NODES, idPrefix: "n", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, xdsApi });
    await fleet.start();
  });

  afterAll(async () => {
    await fleet?.stop();
    await app?.close();
    if (dir) await removeFolder(dir);
  });

  it("starts every node on remote code over ECDS through a cache-miss NACK and a re-push", async () => {
    await waitFor("every node runs v1", () => fleet.nodes.every((n) => runningGuard(n) === sha256Hex(v1)), 15_000);
    for (const n of fleet.nodes) expect(nacksOf(n, sha256Hex(v1))).toBeGreaterThanOrEqual(1);
    expect(app.events.list({ types: ["remote-fetching"] }).length).toBeGreaterThanOrEqual(NODES);
    expect(app.versions.quarantined("guard")).toEqual([]);
  });

  it("hot-swaps to v2 on every node without a quarantine, and v2 earns known-good from the re-push ACKs", async () => {
    const sha = sha256Hex(v2);
    const repushesBefore = app.cacheMisses.counts.repushes;
    await writeFile(join(dir, "modules/guard.wasm"), v2);
    expect((await app.reload()).ok).toBe(true);
    await waitFor("every node runs v2", () => fleet.nodes.every((n) => runningGuard(n) === sha), 15_000);

    for (const n of fleet.nodes) {
      // The first push of v2 was NACKed as a cache miss and fetched once, in the background.
      expect(nacksOf(n, sha)).toBeGreaterThanOrEqual(1);
      expect(n.stats.get("wasm.remote_load_fetch_successes")).toBeGreaterThanOrEqual(2);
      expect(n.stats.get("wasm.remote_load_cache_hits")).toBeGreaterThanOrEqual(2);
      // Traffic runs through the new filter.
      expect(n.sendHttp()?.status).toBe(200);
    }
    expect(app.cacheMisses.counts.repushes - repushesBefore).toBeGreaterThanOrEqual(NODES);
    const repushes = app.events.list({ types: ["remote-repush"] }).filter((e) => e.details?.sha256 === sha);
    expect(new Set(repushes.map((e) => e.details?.node))).toEqual(new Set(fleet.nodes.map((n) => n.id)));
    expect(app.events.list({ types: ["rollback", "breach"] })).toEqual([]);
    expect(app.versions.quarantined("guard")).toEqual([]);
    const v = app.monitor.versionsOf("guard").find((x) => x.sha256 === sha)!;
    expect(v.nackCount).toBe(0);
    await waitFor("every node ACKed v2", () => v.acked.size === NODES);

    clock.advance(1500);
    await app.monitor.evaluate();
    expect(app.versions.lastGood("guard")?.sha256).toBe(sha);
  });

  it("treats a NACK with no fetch (the module fails to load from the cache) as a real NACK: quarantine and rollback", async () => {
    const bad = sha256Hex(v3);
    await writeGuard(dir, yaml('{"ok":false}'), v3);
    expect((await app.reload()).ok).toBe(true);
    // Miss, fetch, re-push; then the cached module fails to configure and no fetch follows.
    await waitFor("every node NACKed the re-push", () => fleet.nodes.every((n) => nacksOf(n, bad) >= 2), 15_000);
    await waitFor("the control plane waits for fetches that do not come", () => app.cacheMisses.undecided === NODES, 10_000);
    expect(app.versions.quarantined("guard")).toEqual([]);
    expect(app.monitor.versionsOf("guard").find((x) => x.sha256 === bad)?.nackCount).toBe(0);
    clock.advance(DEFAULT_CACHE_MISS_LIMITS.fetchGraceMs);
    await waitFor("rolled back", () => app.events.list({ types: ["rollback"] })[0], 10_000);
    expect(app.versions.quarantined("guard").map((q) => q.sha256)).toEqual([bad]);
    await waitFor("every node back on v2", () => fleet.nodes.every((n) => runningGuard(n) === sha256Hex(v2)), 15_000);
  });
});
