/**
 * Issue 11, item 1: a client subscribing ECDS to thousands of fresh names,
 * closing and doing it again made the server keep every subscription's
 * response (keyed by the joined names) until the configuration changed:
 * RSS 179 -> 577 -> 786 -> 1,124 MiB over three rounds. The body cache is
 * now keyed by the resources selected and bounded as an LRU.
 */
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Snapshot, TypeSnapshot } from "../../src/cache/snapshot";
import { makeResource } from "../../src/cache/resource";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { basicInput, extensionConfig } from "../helpers/snapshots";
import { type Harness, startHarness } from "../helpers/xds-harness";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const ECDS = TYPE_URLS.extensionConfig;
const MiB = 1024 * 1024;

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
});
afterEach(async () => {
  await h.close();
});

describe("memory held per subscription", () => {
  it("20 rounds of subscribing ECDS to 4,000 fresh 1,000-character names and closing leave the heap flat", async () => {
    const round = async (r: number) => {
      const c = new AdsClient(h.port, { id: `flood-${r}` });
      const names = Array.from({ length: 4000 }, (_, i) => `r${r}-${i}-`.padEnd(1000, "x"));
      c.request({ typeUrl: ECDS, names: [...names, "f1"] });
      const resp = await c.next(ECDS, 10_000);
      expect(resp.resources).toHaveLength(1);
      c.cancel();
      await expect.poll(() => h.xds.streamStatuses().length, { timeout: 5000 }).toBe(0);
    };
    await round(-1);
    const before = heapAfterGc();
    for (let r = 0; r < 20; r++) await round(r);
    const grown = heapAfterGc() - before;
    // Each round sent 4 MB of names; the old cache kept a 4 MB key per round (80 MB).
    expect(grown).toBeLessThan(8 * MiB);
    const type = h.cache.getDefaultSnapshot()!.type(ECDS);
    expect(type.cacheSize().entries).toBe(1);
  }, 120_000);
});

describe("the response body cache", () => {
  const resources = new Map(
    Array.from({ length: 40 }, (_, i) => {
      const r = makeResource(ECDS, extensionConfig(`f${String(i).padStart(2, "0")}`, "x".repeat(1000)));
      return [r.name, r] as const;
    }),
  );

  it("names that do not exist create no entry: every such subscription shares the empty body", () => {
    const type = new TypeSnapshot(ECDS, resources);
    const a = type.response(new Set(["nope-1", "nope-2"]));
    const b = type.response(new Set(Array.from({ length: 5000 }, (_, i) => `fresh-${i}`)));
    expect(a).toBe(b);
    expect(a.resources).toHaveLength(0);
    expect(type.cacheSize()).toEqual({ entries: 0, bytes: 0 });
  });

  it("keys a body by the resources selected, so unknown names next to known ones share it", () => {
    const type = new TypeSnapshot(ECDS, resources);
    const a = type.response(new Set(["f01", "f02"]));
    const b = type.response(new Set(["f02", "junk", "f01"]));
    expect(b).toBe(a);
    expect(a.resourceNames).toEqual(["f01", "f02"]);
    expect(type.cacheSize().entries).toBe(1);
  });

  it("is bounded by entries, least recently used first", () => {
    const type = new TypeSnapshot(ECDS, resources, { maxEntries: 4, maxBytes: 64 * MiB });
    const first = type.response(new Set(["f00"]));
    for (let i = 1; i < 4; i++) type.response(new Set([`f0${i}`]));
    expect(type.response(new Set(["f00"]))).toBe(first); // used again: now the newest
    for (let i = 4; i < 7; i++) type.response(new Set([`f0${i}`]));
    expect(type.cacheSize().entries).toBe(4);
    expect(type.response(new Set(["f00"]))).toBe(first);
    expect(type.response(new Set(["f01"]))).not.toBe(undefined);
  });

  it("is bounded by bytes, keeping the newest body even when it alone is larger", () => {
    const type = new TypeSnapshot(ECDS, resources, { maxEntries: 1000, maxBytes: 5000 });
    for (let i = 0; i < 30; i++) type.response(new Set([`f${String(i).padStart(2, "0")}`, `f${String(i + 1).padStart(2, "0")}`]));
    expect(type.cacheSize().bytes).toBeLessThanOrEqual(5000);
    const big = type.response(new Set([...resources.keys()]));
    expect(type.cacheSize()).toEqual({ entries: 1, bytes: big.body.length });
  });
});
