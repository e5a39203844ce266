/**
 * Failure reports that arrive after a rollback (regression). Envoy buffers
 * access logs for up to a second, so `wasm_fail_stream` entries of a
 * crashing version kept arriving after its nodes were back on the known-good
 * version; pinned on what each node ran by then, they quarantined the
 * known-good version too, and the crashing one was served again ("nothing
 * else to serve"). Seen with scripts/demo-fail-closed.sh (8 nodes).
 * A failure dated before the node ACKed a version is not that version's.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_HEALTH, type FilterConfig } from "../../src/config/model";
import { type ServedFilter, settingsOf } from "../../src/config/filter-version";
import { EventLog } from "../../src/events/event-log";
import { FilterVersions } from "../../src/health/filter-versions";
import { HealthMonitor } from "../../src/health/monitor";
import type { HealthSignal } from "../../src/health/signal";
import { StateStore } from "../../src/health/state-store";
import { silentLogger } from "../../src/logger";
import { FakeClock } from "../../src/time/fake-clock";
import type { NodeInfo } from "../../src/vocabulary/node-info";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { versionKey } from "../../src/vocabulary/version-key";

const GOOD = "a".repeat(64);
const BAD = "b".repeat(64);
const FILTER: FilterConfig = {
  name: "guard",
  kind: "http",
  module: { type: "file", path: "m.wasm" },
  rootId: "",
  failurePolicy: "FAIL_CLOSED",
  code: "inline",
  discovery: "ecds",
  preflight: true,
  health: DEFAULT_HEALTH,
};
const version = (sha256: string): ServedFilter => ({ filter: FILTER, module: { sha256, bytes: new Uint8Array() }, key: versionKey(sha256, settingsOf(FILTER)) });
const GOOD_V = version(GOOD);
const BAD_V = version(BAD);
const node = (id: string): NodeInfo => ({ id, cluster: "edge", locality: { region: "", zone: "", subZone: "" }, metadata: {}, userAgent: "" });

describe("failure reports that arrive after a rollback", () => {
  let clock: FakeClock;
  let served: ServedFilter;
  let versions: FilterVersions;
  let monitor: HealthMonitor;
  let pushes = 0;

  /** The node is sent what is served now and ACKs it at the clock's time. */
  const pushAndAck = () => {
    const v = `v${++pushes}`;
    const common = { streamId: 1, node: node("n1"), typeUrl: TYPE_URLS.extensionConfig, version: v };
    monitor.onXds({ kind: "push", ...common, nonce: v, resourceNames: ["guard"] });
    monitor.onXds({ kind: "ack", ...common, resourceNames: ["guard"] });
  };
  const failStream = (occurredAt: number | undefined): HealthSignal => ({
    nodeId: "n1",
    kind: "wasm_fail_stream",
    count: 5,
    listener: "ingress",
    evidence: "5 of 5 requests answered with response_code_details wasm_fail_stream (access log wasmxds/ingress)",
    source: "access-log",
    at: clock.now(),
    ...(occurredAt !== undefined && { occurredAt }),
  });

  beforeEach(async () => {
    clock = new FakeClock(1_000_000);
    pushes = 0;
    versions = new FilterVersions(StateStore.inMemory(), silentLogger);
    await versions.markGood("guard", { sha256: GOOD, key: GOOD_V.key, settings: settingsOf(FILTER) });
    served = GOOD_V;
    monitor = new HealthMonitor({
      versions,
      policyOf: () => DEFAULT_HEALTH,
      nodeVersions: () => new Map([["guard", served.key]]),
      listenerFilters: (l) => (l === "ingress" ? ["guard"] : undefined),
      republish: async () => {
        if (versions.select(served).kind !== "candidate") served = GOOD_V;
      },
      connected: () => true,
      events: new EventLog(),
      logger: silentLogger,
      clock,
    });
    monitor.served(new Map([["guard", GOOD_V]]));
    pushAndAck();
    clock.advance(10_000);
    served = BAD_V;
    monitor.served(new Map([["guard", BAD_V]]));
    pushAndAck();
  });

  it("does not pin failures dated before the rollback on the known-good version", async () => {
    const crashedAt = clock.now() + 2_000;
    clock.advance(2_500);
    monitor.onSignal(failStream(crashedAt));
    expect(versions.isQuarantined("guard", BAD_V.key)).toBe(true);
    await Promise.resolve();
    expect(served).toBe(GOOD_V);
    // Back on the known-good version; entries buffered before it arrive a second later.
    pushAndAck();
    clock.advance(1_000);
    monitor.onSignal(failStream(crashedAt + 400));
    expect(versions.isQuarantined("guard", GOOD_V.key)).toBe(false);
    expect(versions.lastGood("guard")?.key).toBe(GOOD_V.key);
  });

  it("still pins failures that happened after the node ran the version", async () => {
    clock.advance(2_500);
    monitor.onSignal(failStream(clock.now() - 100));
    await Promise.resolve();
    expect(served).toBe(GOOD_V);
    pushAndAck();
    clock.advance(3_000);
    // The known-good version itself fails now: that is evidence against it.
    monitor.onSignal(failStream(clock.now() - 100));
    expect(versions.isQuarantined("guard", GOOD_V.key)).toBe(true);
  });
});
