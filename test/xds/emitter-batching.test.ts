import { describe, expect, it } from "vitest";
import { Emitter } from "../../src/emitter";

describe("Emitter", () => {
  it("delivers a burst in one microtask, after the emitting code, in emit order, to every listener", async () => {
    const e = new Emitter<number>();
    const seen: string[] = [];
    e.on((n) => seen.push(`a${n}`));
    e.on((n) => seen.push(`b${n}`));
    let microtasks = 0;
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (cb) => {
      microtasks++;
      original(cb);
    };
    try {
      for (let i = 0; i < 1000; i++) e.emit(i);
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(seen).toEqual([]);
    await Promise.resolve();
    expect(microtasks).toBe(1);
    expect(seen.slice(0, 4)).toEqual(["a0", "b0", "a1", "b1"]);
    expect(seen).toHaveLength(2000);
  });

  it("delivers events emitted by a listener after the ones already queued, and a throwing listener stops nobody", async () => {
    const e = new Emitter<string>();
    const seen: string[] = [];
    e.on(() => {
      throw new Error("a listener's bug");
    });
    e.on((s) => {
      seen.push(s);
      if (s === "first") e.emit("from a listener");
    });
    e.emit("first");
    e.emit("second");
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(["first", "second", "from a listener"]);
    e.emit("later burst");
    await new Promise((r) => setTimeout(r, 0));
    expect(seen.at(-1)).toBe("later burst");
  });
});
