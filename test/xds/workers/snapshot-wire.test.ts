/**
 * Snapshots sent to a worker: the first time with every resource's bytes,
 * afterwards with the bytes of changed resources only (a module swap sends
 * one ECDS resource, not the listeners); the worker's rebuilt snapshot has
 * the same version and the same response bytes as the main process's, and
 * a resource neither sent nor held is an error naming it.
 */
import { describe, expect, it } from "vitest";
import { Snapshot } from "../../../src/cache/snapshot";
import { TYPE_URLS } from "../../../src/vocabulary/type-urls";
import { decodeSnapshot, encodeSnapshot, HeldSnapshots } from "../../../src/xds/workers/snapshot-wire";

const cluster = (name: string, ms: number) => ({ name, message: { name, connect_timeout: { seconds: 0, nanos: ms * 1_000_000 } } });
const snapshot = (timeouts: Record<string, number>, previous?: Snapshot) =>
  Snapshot.create({ [TYPE_URLS.cluster]: Object.entries(timeouts).map(([n, ms]) => cluster(n, ms)), [TYPE_URLS.listener]: [] }, previous);

describe("snapshots across the worker boundary", () => {
  it("sends each resource's bytes once, and the worker rebuilds the same snapshot", () => {
    const main = new HeldSnapshots();
    const worker = new HeldSnapshots();
    const v1 = snapshot({ a: 100, b: 200, c: 300 });
    const m1 = encodeSnapshot("", v1, main);
    expect(m1.fresh.map((r) => r[1]).sort()).toEqual(["a", "b", "c"]);
    const w1 = decodeSnapshot(m1, worker);
    expect(w1.version).toBe(v1.version);
    expect(w1.type(TYPE_URLS.cluster).response("*").body.equals(v1.type(TYPE_URLS.cluster).response("*").body)).toBe(true);

    const v2 = snapshot({ a: 100, b: 250, c: 300 }, v1);
    const m2 = encodeSnapshot("", v2, main);
    expect(m2.fresh.map((r) => r[1])).toEqual(["b"]);
    const w2 = decodeSnapshot(m2, worker);
    expect(w2.version).toBe(v2.version);
    expect(w2.type(TYPE_URLS.cluster).response(new Set(["b"])).body.equals(v2.type(TYPE_URLS.cluster).response(new Set(["b"])).body)).toBe(true);

    // Another group holding v2's resources costs no bytes.
    expect(encodeSnapshot("canary", v2, main).fresh).toEqual([]);
  });

  it("names a resource the worker neither was sent nor holds", () => {
    const v1 = snapshot({ a: 100 });
    const message = encodeSnapshot("", v1, new HeldSnapshots());
    expect(() => decodeSnapshot({ ...message, fresh: [] }, new HeldSnapshots())).toThrow(`resource ${TYPE_URLS.cluster} "a" version ${v1.resource(TYPE_URLS.cluster, "a")?.version} was neither sent nor held`);
  });
});
