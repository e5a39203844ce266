/**
 * Regression: a NACK storm filled the 5,000-entry event log and pushed every
 * other kind of history out. Each type now keeps its share: when full, the
 * oldest event of the largest type goes.
 */
import { describe, expect, it } from "vitest";
import { EventLog } from "../../src/events/event-log";
import { FakeClock } from "../../src/time/fake-clock";

describe("event log: no one type evicts the rest", () => {
  it("keeps earlier events of other types through 20,000 events of one type", () => {
    const log = new EventLog(5000);
    log.add("published", "config", "published version 1");
    log.add("node-connected", "node a", "a connected");
    log.add("rollback", "health", "rolled back f");
    for (let i = 0; i < 20_000; i++) log.add("nack", "node evil", `nack ${i}`);
    log.add("published", "config", "published version 2");

    expect(log.size).toBe(5000);
    const all = log.list();
    expect(all).toHaveLength(5000);
    expect(all.filter((e) => e.type !== "nack").map((e) => e.message)).toEqual([
      "published version 1",
      "a connected",
      "rolled back f",
      "published version 2",
    ]);
    // The storm keeps its newest events, in order.
    const nacks = all.filter((e) => e.type === "nack");
    expect(nacks).toHaveLength(4996);
    expect(nacks.at(-1)?.message).toBe("nack 19999");
    expect(nacks[0]?.message).toBe(`nack ${20_000 - 4996}`);
  });

  it("list() returns seq order and honours afterSeq, types and limit across types", () => {
    const log = new EventLog(10);
    const types = ["a", "b", "c"];
    for (let i = 0; i < 30; i++) log.add(types[i % 3]!, "t", `${i}`);
    const all = log.list();
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(all).toHaveLength(10);
    // Shares are even: 4/3/3 or so, never one type alone.
    for (const t of types) expect(all.filter((e) => e.type === t).length).toBeGreaterThanOrEqual(3);

    const after = all[4]!.seq;
    expect(log.list({ afterSeq: after }).map((e) => e.seq)).toEqual(seqs.filter((s) => s > after));
    expect(log.list({ types: ["b"] }).every((e) => e.type === "b")).toBe(true);
    expect(log.list({ types: ["a", "c"], limit: 2 }).map((e) => e.seq)).toEqual(
      all.filter((e) => e.type === "a" || e.type === "c").slice(-2).map((e) => e.seq),
    );
    expect(log.list({ types: ["nope"] })).toEqual([]);
    expect(log.list({ limit: 0 })).toEqual([]);
  });

  it("a type that was a minority is not evicted while another type holds more", () => {
    const log = new EventLog(100);
    for (let i = 0; i < 40; i++) log.add("rollback", "h", `r${i}`);
    for (let i = 0; i < 1000; i++) log.add("nack", "n", `n${i}`);
    expect(log.list({ types: ["rollback"] })).toHaveLength(40);
    expect(log.list({ types: ["nack"] })).toHaveLength(60);
  });

  it("stamps events with the injected clock", () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const log = new EventLog(10, clock);
    expect(log.add("x", "t", "m").at).toBe("2030-01-01T00:00:00.000Z");
  });

  it("stays fast: 100,000 adds and a full list in well under a second", () => {
    const log = new EventLog(5000);
    const t0 = performance.now();
    for (let i = 0; i < 100_000; i++) log.add(i % 50 === 0 ? "published" : "nack", "t", "m");
    for (let i = 0; i < 20; i++) log.list({ afterSeq: 99_000 });
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
