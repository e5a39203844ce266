import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_HEALTH, type FilterConfig, type HealthPolicy } from "../../src/config/model";
import { type ServedFilter, settingsOf } from "../../src/config/filter-version";
import { versionKey } from "../../src/vocabulary/version-key";
import { EventLog } from "../../src/events/event-log";
import { FilterVersions } from "../../src/health/filter-versions";
import { HealthMonitor } from "../../src/health/monitor";
import type { HealthSignal } from "../../src/health/signal";
import { StateStore } from "../../src/health/state-store";
import { silentLogger } from "../../src/logger";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import type { NodeInfo } from "../../src/vocabulary/node-info";
import { FakeClock } from "../../src/time/fake-clock";

const GOOD = "a".repeat(64);
const BAD = "b".repeat(64);
const node = (id: string): NodeInfo => ({ id, cluster: "edge", locality: { region: "", zone: "", subZone: "" }, metadata: {}, userAgent: "" });

const FILTER: FilterConfig = {
  name: "guard",
  kind: "http",
  module: { type: "file", path: "m.wasm" },
  rootId: "",
  failurePolicy: "FAIL_RELOAD",
  code: "inline",
  discovery: "ecds",
  preflight: true,
  health: DEFAULT_HEALTH,
};
const servedFilter = (sha256: string): ServedFilter => ({
  filter: FILTER,
  module: { sha256, bytes: new Uint8Array() },
  key: versionKey(sha256, settingsOf(FILTER)),
});
const GOOD_V = servedFilter(GOOD);
const BAD_V = servedFilter(BAD);

describe("HealthMonitor", () => {
  let clock: FakeClock;
  let served: Map<string, ServedFilter>;
  let policy: HealthPolicy;
  let versions: FilterVersions;
  let events: EventLog;
  let republished: number;
  let monitor: HealthMonitor;

  beforeEach(async () => {
    clock = new FakeClock(1_000_000);
    served = new Map([["guard", GOOD_V]]);
    policy = { ...DEFAULT_HEALTH, goodAfterMs: 5000 };
    versions = new FilterVersions(StateStore.inMemory(), silentLogger);
    await versions.markGood("guard", { sha256: GOOD, key: GOOD_V.key, settings: settingsOf(FILTER) });
    events = new EventLog();
    republished = 0;
    monitor = new HealthMonitor({
      versions,
      policyOf: () => policy,
      nodeVersions: () => new Map([...served].map(([n, v]) => [n, v.key])),
      republish: async () => {
        republished++;
        if (versions.select(served.get("guard")!).kind !== "candidate") served = new Map([["guard", GOOD_V]]);
      },
      connected: () => true,
      events,
      logger: silentLogger,
      clock,
    });
    monitor.served(served);
    served = new Map([["guard", BAD_V]]);
    monitor.served(served);
    // Only nodes sent a version may complain about it (issue 11): n1 was.
    sendTo("n1");
  });

  const sendTo = (nodeId: string) =>
    monitor.onXds({ kind: "push", streamId: 1, node: node(nodeId), typeUrl: TYPE_URLS.extensionConfig, version: "v0", nonce: "0", resourceNames: ["guard"] });

  const crash = (nodeId: string, extra: Partial<HealthSignal> = {}): HealthSignal => ({
    nodeId,
    kind: "vm_reload_success",
    count: 1,
    plugin: `guard@${BAD.slice(0, 8)}`,
    evidence: `wasm.guard@${BAD.slice(0, 8)}.vm_reload_success`,
    source: "metrics-service",
    at: clock.now(),
    ...extra,
  });

  it("rolls a crashing version back to the last known-good one and records why", async () => {
    monitor.onSignal(crash("n1"));
    expect(versions.isQuarantined("guard", BAD_V.key)).toBe(true);
    expect(versions.select(BAD_V)).toMatchObject({ kind: "fallback", good: { sha256: GOOD, key: GOOD_V.key } });
    expect(republished).toBe(1);
    const rollback = events.list({ types: ["rollback"] })[0]!;
    expect(rollback.message).toMatch(/^guard@bbbbbbbb rolled back to guard@aaaaaaaa: 1 crash signal\(s\) \(vm_reload_success\) from n1/);
    expect(rollback.details).toMatchObject({ nodes: ["n1"] });
    const q = versions.quarantined("guard")[0]!;
    expect(q.signals[0]).toMatchObject({ kind: "vm_reload_success", node: "n1", count: 1 });
  });

  it("tolerates crashes up to maxCrashes within the window", async () => {
    policy = { ...policy, maxCrashes: 2, windowMs: 10_000 };
    sendTo("n2");
    sendTo("n3");
    monitor.onSignal(crash("n1"));
    clock.advance(20_000); // the first one leaves the window
    monitor.onSignal(crash("n1"));
    monitor.onSignal(crash("n2"));
    expect(versions.isQuarantined("guard", BAD_V.key)).toBe(false);
    monitor.onSignal(crash("n3"));
    expect(versions.isQuarantined("guard", BAD_V.key)).toBe(true);
  });

  it("attributes a NACK by the plugin name in Envoy's message", async () => {
    monitor.onXds({
      kind: "nack",
      node: node("n1"),
      nack: {
        nodeId: "n1",
        streamId: 1,
        typeUrl: TYPE_URLS.extensionConfig,
        rejectedVersion: "v2",
        keptVersion: "v1",
        nonce: "x",
        message: `Unable to create Wasm plugin guard@${BAD.slice(0, 8)}`,
        code: 13,
        resourceNames: ["guard"],
        at: clock.now(),
      },
    });
    expect(versions.isQuarantined("guard", BAD_V.key)).toBe(true);
    expect(events.list({ types: ["rollback"] })[0]!.message).toMatch(/1 NACK\(s\) from n1/);
  });

  it("pins signals without a plugin on the versions on trial, ignoring VM creations right after a push", async () => {
    monitor.onXds({ kind: "push", streamId: 1, node: node("n1"), typeUrl: TYPE_URLS.extensionConfig, version: "v", nonce: "1", resourceNames: ["guard"] });
    monitor.onSignal(crash("n1", { kind: "vm_created", plugin: undefined, evidence: "wasm.envoy.wasm.runtime.v8.created" }));
    expect(versions.isQuarantined("guard", BAD_V.key)).toBe(false);
    clock.advance(60_000);
    monitor.onSignal(crash("n1", { kind: "wasm_fail_stream", plugin: undefined, source: "access-log", evidence: "503 wasm_fail_stream" }));
    expect(versions.isQuarantined("guard", BAD_V.key)).toBe(true);
  });

  it("promotes a version served long enough, ACKed and without a breach", async () => {
    // An ACK of something else proves nothing about this version.
    monitor.onXds({ kind: "ack", streamId: 1, node: node("n1"), typeUrl: TYPE_URLS.extensionConfig, version: "other", resourceNames: ["guard"] });
    clock.advance(5000);
    await monitor.evaluate();
    expect(versions.lastGood("guard")?.sha256).toBe(GOOD);
    monitor.onXds({ kind: "push", streamId: 1, node: node("n1"), typeUrl: TYPE_URLS.extensionConfig, version: "v", nonce: "2", resourceNames: ["guard"] });
    monitor.onXds({ kind: "ack", streamId: 1, node: node("n1"), typeUrl: TYPE_URLS.extensionConfig, version: "v", resourceNames: ["guard"] });
    await monitor.evaluate();
    expect(versions.lastGood("guard")?.sha256).toBe(BAD);
    expect(events.list({ types: ["known-good"] })[0]!.message).toMatch(/guard@bbbbbbbb is known-good/);
  });

  it("evaluates on its own tick, on the injected clock", async () => {
    monitor.onXds({ kind: "push", streamId: 1, node: node("n1"), typeUrl: TYPE_URLS.extensionConfig, version: "v", nonce: "2", resourceNames: ["guard"] });
    monitor.onXds({ kind: "ack", streamId: 1, node: node("n1"), typeUrl: TYPE_URLS.extensionConfig, version: "v", resourceNames: ["guard"] });
    monitor.start(1000);
    clock.advance(4000);
    await Promise.resolve();
    expect(versions.lastGood("guard")?.sha256).toBe(GOOD);
    clock.advance(1000);
    await Promise.resolve();
    expect(versions.lastGood("guard")?.sha256).toBe(BAD);
    monitor.stop();
    expect(clock.pending).toBe(0);
  });

  it("only records a breach when rollback is disabled", async () => {
    policy = { ...policy, rollback: false };
    monitor.onSignal(crash("n1"));
    expect(versions.isQuarantined("guard", BAD_V.key)).toBe(false);
    expect(republished).toBe(0);
    expect(events.list({ types: ["breach"] })).toHaveLength(1);
  });
});

describe("StateStore", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "wasmxds-state-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("persists quarantines and known-good versions across reopen", async () => {
    const a = new FilterVersions(await StateStore.open(dir), silentLogger);
    await a.markGood("guard", { sha256: GOOD, key: GOOD_V.key, settings: settingsOf(FILTER) });
    await a.quarantine("guard", { sha256: BAD, key: BAD_V.key, reason: "crashed", at: new Date().toISOString(), nodes: ["n1"], signals: [] });
    const b = new FilterVersions(await StateStore.open(dir), silentLogger);
    expect(b.lastGood("guard")).toMatchObject({ sha256: GOOD, key: GOOD_V.key, settings: settingsOf(FILTER) });
    expect(b.isQuarantined("guard", BAD_V.key)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "state.json"), "utf8")).version).toBe(1);
    expect(await b.clearQuarantine("guard", BAD.slice(0, 8))).toEqual([BAD_V.key]);
    const c = new FilterVersions(await StateStore.open(dir), silentLogger);
    expect(c.isQuarantined("guard", BAD_V.key)).toBe(false);
  });

  it("repairs a corrupt state file, naming it and keeping a copy (issue 11: a control plane must start)", async () => {
    const { readdirSync, writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "state.json"), "{ nope");
    const store = await StateStore.open(dir);
    expect(store.repairs[0]).toMatch(/state\.json: not valid JSON/);
    expect(store.get().filters).toEqual({});
    expect(readdirSync(dir).filter((f) => f.startsWith("state.json.corrupt-"))).toHaveLength(1);
  });
});

describe("known-good history", () => {
  it("falls back to the previous known-good version when the current one is quarantined", async () => {
    const versions = new FilterVersions(StateStore.inMemory(), silentLogger);
    const C = "c".repeat(64);
    await versions.markGood("guard", { sha256: GOOD, key: `${GOOD}:x`, settings: settingsOf(FILTER) });
    await versions.markGood("guard", { sha256: C, key: `${C}:x`, settings: settingsOf(FILTER) });
    await versions.quarantine("guard", { sha256: C, key: `${C}:x`, reason: "crashed later", at: "", nodes: [], signals: [] });
    expect(versions.lastGood("guard")?.sha256).toBe(GOOD);
  });
});
