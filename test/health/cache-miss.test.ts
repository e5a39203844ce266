/**
 * The cache-miss tracker's two waits run on the injected clock (issue 13,
 * item 4): a NACK with no fetch within fetchGraceMs is real, a miss whose
 * fetch is not served within fetchWaitMs is pushed again anyway; each falls
 * due exactly when the FakeClock reaches it, and a served fetch cancels
 * the wait. (Listeners hear of it a microtask later: emitter.ts.)
 */
import { beforeEach, describe, expect, it } from "vitest";
import { EventLog } from "../../src/events/event-log";
import { CacheMisses, DEFAULT_CACHE_MISS_LIMITS } from "../../src/health/cache-miss";
import { silentLogger } from "../../src/logger";
import { FakeClock } from "../../src/time/fake-clock";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import type { NackRecord } from "../../src/xds/events";

const SHA = "c".repeat(64);
const KEY = `${SHA}:settings`;
const { fetchGraceMs, fetchWaitMs } = DEFAULT_CACHE_MISS_LIMITS;
const delivered = () => Promise.resolve();

const nack = (clock: FakeClock): NackRecord => ({
  nodeId: "n1",
  streamId: 1,
  typeUrl: TYPE_URLS.extensionConfig,
  rejectedVersion: "v2",
  keptVersion: "v1",
  nonce: "1",
  message: `Unable to create Wasm plugin guard@${SHA.slice(0, 8)}`,
  code: 13,
  resourceNames: ["guard"],
  at: clock.now(),
});

describe("cache-miss waits on the injected clock", () => {
  let clock: FakeClock;
  let misses: CacheMisses;
  let repushes: string[];
  let real: NackRecord[];

  beforeEach(() => {
    clock = new FakeClock();
    misses = new CacheMisses({ nodeVersions: () => new Map([["guard", KEY]]), events: new EventLog(), logger: silentLogger, clock });
    repushes = [];
    real = [];
    misses.repushes.on((id) => repushes.push(id));
    misses.realNacks.on((n) => real.push(n));
  });

  it("takes a NACK with no fetch within fetchGraceMs as real, not a millisecond early", async () => {
    // The node loaded the module before: a later NACK is a miss only if a fetch shows up.
    misses.sent("n1", "guard", KEY, 0);
    misses.acked("n1", "guard", KEY, 0);
    expect(misses.nacked(nack(clock), "guard", KEY, 0)).toBe(true);
    expect(misses.undecided).toBe(1);
    clock.advance(fetchGraceMs - 1);
    expect(misses.counts.realNacks).toBe(0);
    clock.advance(1);
    expect(misses.counts.realNacks).toBe(1);
    await delivered();
    expect(real).toHaveLength(1);
    expect(misses.undecided).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it("pushes a miss again after fetchWaitMs when no fetch was served", async () => {
    misses.sent("n1", "guard", KEY, 0);
    expect(misses.nacked(nack(clock), "guard", KEY, 0)).toBe(true);
    expect(misses.counts.misses).toBe(1);
    clock.advance(fetchWaitMs - 1);
    expect(misses.counts.repushes).toBe(0);
    clock.advance(1);
    expect(misses.counts.repushes).toBe(1);
    expect(misses.attemptOf("n1", "guard")).toBe(1);
    await delivered();
    expect(repushes).toEqual(["n1"]);
    expect(real).toEqual([]);
  });

  it("pushes again as soon as the module is served, and the wait is cancelled", async () => {
    misses.sent("n1", "guard", KEY, 0);
    misses.nacked(nack(clock), "guard", KEY, 0);
    misses.fetch({ sha256: SHA, repush: 0, phase: "started" });
    misses.fetch({ sha256: SHA, repush: 0, phase: "served" });
    expect(misses.counts.repushes).toBe(1);
    expect(clock.pending).toBe(0);
    clock.advance(fetchWaitMs);
    await delivered();
    expect(repushes).toEqual(["n1"]);
  });
});
