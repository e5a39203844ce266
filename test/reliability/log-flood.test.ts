/**
 * Issue 11, item 8: 20,000 distinct unknown type URLs gave 20,000 warning
 * lines, one of a million characters. Log values are now cut (every
 * logger) and peer-triggered warnings are rate limited per peer.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { LogLimiter } from "../../src/log-limiter";
import { MAX_LOG_STRING, memoryLogger } from "../../src/logger";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { FakeClock } from "../../src/time/fake-clock";
import { AdsClient } from "../helpers/ads-client";
import { basicInput } from "../helpers/snapshots";
import { type Harness, startHarness } from "../helpers/xds-harness";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
});
afterEach(async () => {
  await h.close();
});

const lineLength = (r: { msg: string; fields: Record<string, unknown> }) => JSON.stringify({ msg: r.msg, ...r.fields }).length;

describe("a log flood from one peer", () => {
  it("20,000 unknown type URLs, some of a million characters, give a bounded number of bounded lines, and the stream keeps working", async () => {
    const c = new AdsClient(h.port, { id: "flooder" });
    try {
      for (let i = 0; i < 20_000; i++) {
        const typeUrl = i % 2000 === 0 ? `type.googleapis.com/huge.${i}.`.padEnd(1_000_000, "z") : `type.googleapis.com/unknown.T${i}`;
        c.request({ typeUrl });
      }
      c.request({ typeUrl: TYPE_URLS.extensionConfig, names: ["f1"] });
      const resp = await c.next(TYPE_URLS.extensionConfig, 30_000);
      expect(resp.resources).toHaveLength(1);
      const status = h.xds.streamStatuses().find((s) => s.node?.id === "flooder");
      expect(status?.ignoredTypes.length).toBe(16);
    } finally {
      c.cancel();
    }
    h.xds.closeAllStreams(); // ends the limiter's window: its summary line is written now
    const warnings = h.logger.records.filter((r) => r.level === "warn");
    expect(warnings.length).toBeLessThanOrEqual(6);
    expect(warnings.at(-1)?.msg).toMatch(/^suppressed \d+ similar warnings$/);
    for (const r of h.logger.records) expect(lineLength(r)).toBeLessThan(4 * MAX_LOG_STRING);
  }, 120_000);
});

describe("the logger and the limiter", () => {
  it("cuts long strings in every field, saying how much, and shortens long arrays", () => {
    const log = memoryLogger();
    log.child({ peer: "p".repeat(2000) }).info("m".repeat(5000), { list: Array.from({ length: 100 }, (_, i) => `n${i}`), nested: { deep: "d".repeat(600) } });
    const r = log.records[0]!;
    expect(r.fields.peer).toBe(`${"p".repeat(512)}… (1488 more characters)`);
    expect(r.msg.length).toBeLessThan(1100);
    expect(r.fields.list).toHaveLength(33);
    expect((r.fields.nested as { deep: string }).deep).toMatch(/… \(88 more characters\)$/);
  });

  it("logs the first 5 per key and 50 in all per minute, then one summary when the window ends (on the injected clock)", () => {
    const log = memoryLogger();
    const clock = new FakeClock();
    const limiter = new LogLimiter(log, clock);
    for (let i = 0; i < 1000; i++) limiter.warn("same-peer", "bad request", { i });
    expect(log.records).toHaveLength(5);
    for (let i = 0; i < 1000; i++) limiter.warn(`peer-${i}`, "bad request", { i });
    expect(log.records).toHaveLength(50);
    clock.advance(60_000);
    expect(log.records).toHaveLength(51);
    expect(log.records[50]).toMatchObject({ msg: "suppressed 1950 similar warnings", fields: { suppressed: 1950 } });
    limiter.warn("same-peer", "bad request again");
    expect(log.records).toHaveLength(52);
    expect(clock.pending).toBe(0);
  });
});
