/**
 * The flush as the ingest's unit (issue 12 point 10): Envoy's metrics sink
 * may split one flush into batch_size messages, each metric stamped with
 * the snapshot's time (docs/ENVOY.md "Metrics service sink"). Unit tests of
 * FlushSequence (where flushes begin and end), CounterModeDetector (each
 * counter compared with its own previous reading, verdicts over a whole
 * flush) and CounterTracker (every part of the first snapshot is baseline).
 */
import { describe, expect, it } from "vitest";
import { CounterModeDetector } from "../../src/health/counter-mode";
import { CounterTracker } from "../../src/health/counter-tracker";
import { FlushSequence } from "../../src/health/flush-sequence";

const m = (o: Record<string, number>) => new Map(Object.entries(o));

describe("FlushSequence", () => {
  it("an unbatched sink: every message is a whole flush", () => {
    const f = new FlushSequence();
    expect(f.next("1000", 40, ["wasm.a"])).toEqual({ starts: true, ends: true });
    expect(f.next("6000", 42, ["wasm.a"])).toEqual({ starts: true, ends: true });
  });

  it("batch_size: messages with the flush's time continue it; a message short of the batch size ends it", () => {
    const f = new FlushSequence();
    // First flush: the batch size is not known until a second message with the same time arrives.
    expect(f.next("1000", 5, [])).toEqual({ starts: true, ends: true });
    expect(f.next("1000", 5, ["wasm.a"])).toEqual({ starts: false, ends: false });
    expect(f.next("1000", 2, [])).toEqual({ starts: false, ends: true });
    // Later flushes: known complete at the short batch.
    expect(f.next("6000", 5, [])).toEqual({ starts: true, ends: false });
    expect(f.next("6000", 5, ["wasm.a"])).toEqual({ starts: false, ends: false });
    expect(f.next("6000", 1, [])).toEqual({ starts: false, ends: true });
    // A flush of exactly two full batches: complete only when the next one starts.
    expect(f.next("11000", 5, [])).toEqual({ starts: true, ends: false });
    expect(f.next("11000", 5, ["wasm.a"])).toEqual({ starts: false, ends: false });
    expect(f.next("16000", 3, ["wasm.a"])).toEqual({ starts: true, ends: true });
  });

  it("a message without a time is a flush of its own", () => {
    const f = new FlushSequence();
    expect(f.next(undefined, 5, [])).toEqual({ starts: true, ends: true });
    expect(f.next(undefined, 5, [])).toEqual({ starts: true, ends: true });
  });

  it("a wasm counter read again starts a new flush, even within one millisecond", () => {
    const f = new FlushSequence();
    expect(f.next("1000", 3, ["wasm.a", "wasm.b"]).starts).toBe(true);
    expect(f.next("1000", 3, ["wasm.c"]).starts).toBe(false);
    expect(f.next("1000", 3, ["wasm.b"]).starts).toBe(true);
  });

  it("remembers at most maxCounters wasm counters of a flush", () => {
    const f = new FlushSequence(2);
    f.next("1000", 3, ["wasm.a", "wasm.b", "wasm.c"]);
    expect(f.next("1000", 3, ["wasm.c"]).starts).toBe(false); // not remembered: read as the same flush
    expect(f.next("1000", 3, ["wasm.a"]).starts).toBe(true);
  });
});

describe("CounterModeDetector over batched flushes", () => {
  it("learns deltas when the batches of a flush hold different counters (regression: compared message with message, never decided)", () => {
    const d = new CounterModeDetector();
    // Flush 1 in two batches, then flush 2: start-up counters fall back, one with traffic rises.
    expect(d.observe(m({ a: 3, b: 1 }), { starts: true, ends: false })).toBeUndefined();
    expect(d.observe(m({ c: 2 }), { starts: false, ends: true })).toBeUndefined();
    expect(d.observe(m({ a: 0, b: 4 }), { starts: true, ends: false })).toBeUndefined();
    expect(d.observe(m({ c: 1 }), { starts: false, ends: true })).toBe("delta");
  });

  it("does not take one batch of rising counters as cumulative before its flush is complete", () => {
    const d = new CounterModeDetector();
    d.observe(m({ a: 1, b: 1, c: 5, e: 5, g: 5 }), { starts: true, ends: true });
    // Flush 2's first batch: only the busy counters, both up; the rest of the flush shows the others fell.
    expect(d.observe(m({ a: 3, b: 3 }), { starts: true, ends: false })).toBeUndefined();
    expect(d.observe(m({ c: 0, e: 1, g: 2 }), { starts: false, ends: true })).toBe("delta");
  });

  it("judges a flush not known to be complete when the next one starts", () => {
    const c = new CounterModeDetector();
    c.observe(m({ a: 1, b: 1 }), { starts: true, ends: true });
    expect(c.observe(m({ a: 2 }), { starts: true, ends: false })).toBeUndefined();
    expect(c.observe(m({ b: 2 }), { starts: false, ends: false })).toBeUndefined();
    expect(c.observe(m({ a: 2 }), { starts: true, ends: false })).toBe("cumulative");
  });

  it("counts undecided flushes, not messages, before taking Envoy's default", () => {
    const c = new CounterModeDetector(undefined, 2);
    expect(c.observe(m({ a: 1 }), { starts: true, ends: false })).toBeUndefined();
    expect(c.observe(m({ b: 1 }), { starts: false, ends: false })).toBeUndefined();
    expect(c.observe(m({ e: 1 }), { starts: false, ends: true })).toBeUndefined();
    expect(c.observe(m({ a: 1 }), { starts: true, ends: false })).toBeUndefined();
    expect(c.observe(m({ b: 1 }), { starts: false, ends: true })).toBe("cumulative");
  });
});

describe("CounterTracker over a snapshot read in parts", () => {
  it("every part of a node's first snapshot is baseline; a stat first seen in a later snapshot counts whole, in any part", () => {
    const t = new CounterTracker();
    const read = (counters: [string, number][], continuesSnapshot: boolean) => Object.fromEntries(t.increases("n", "cumulative", counters, { continuesSnapshot }));
    expect(read([["a", 5]], false)).toEqual({});
    expect(read([["b", 3]], true)).toEqual({}); // regression: was { b: 3 }, the VMs created at start-up read as new
    expect(read([["a", 6]], false)).toEqual({ a: 1 });
    expect(read([["b", 3], ["c", 2]], true)).toEqual({ c: 2 });
  });
});
