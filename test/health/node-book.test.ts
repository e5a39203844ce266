/**
 * The health monitor's per-node bookkeeping (src/health/node-book.ts): an
 * ACK proves what the push of that type and version carried, for the last
 * 16 distinct pushes, a repeated push replacing its entry where it stands
 * (as the per-node map of "type version" keys it replaces did); carried
 * versions are shared records; the running version moves only when the key
 * changes.
 */
import { describe, expect, it } from "vitest";
import { NodeBook, PUSHES_PER_NODE } from "../../src/health/node-book";
import { versionId } from "../../src/health/remote-evidence";

const ECDS = "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig";
const LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";

describe("NodeBook", () => {
  it("remembers what each of the last 16 distinct pushes carried, by type and version, and forgets the oldest", () => {
    const book = new NodeBook();
    const carried = (i: number) => book.carried("guard", `k${i}`, 0).alone;
    for (let i = 0; i < PUSHES_PER_NODE + 3; i++) book.pushed("n1", ECDS, `v${i}`, carried(i), i);
    for (let i = 0; i < 3; i++) expect(book.carriedBy("n1", ECDS, `v${i}`)).toBeUndefined();
    for (let i = 3; i < PUSHES_PER_NODE + 3; i++) expect(book.carriedBy("n1", ECDS, `v${i}`)?.[0]?.key).toBe(`k${i}`);
    // The same version of another type is another push.
    expect(book.carriedBy("n1", LDS, "v5")).toBeUndefined();
    expect(book.lastPush("n1")).toBe(PUSHES_PER_NODE + 2);
  });

  it("replaces a repeated (type, version) where it stands: it keeps its age, and takes no second slot", () => {
    const book = new NodeBook();
    for (let i = 0; i < PUSHES_PER_NODE; i++) book.pushed("n1", ECDS, `v${i}`, book.carried("guard", "a", 0).alone, i);
    // v0 again, now carrying attempt 1: the oldest entry still, updated.
    book.pushed("n1", ECDS, "v0", book.carried("guard", "a", 1).alone, 99);
    expect(book.carriedBy("n1", ECDS, "v0")?.[0]?.attempt).toBe(1);
    expect(book.carriedBy("n1", ECDS, "v1")).toBeDefined();
    // One more distinct push evicts v0, the oldest.
    book.pushed("n1", ECDS, "v-new", [], 100);
    expect(book.carriedBy("n1", ECDS, "v0")).toBeUndefined();
    expect(book.carriedBy("n1", ECDS, "v1")).toBeDefined();
    expect(book.carriedBy("n1", ECDS, "v-new")).toEqual([]);
  });

  it("hands out one shared record per (filter, key, attempt), with its version id", () => {
    const book = new NodeBook();
    const a = book.carried("guard", "k1", 0);
    expect(book.carried("guard", "k1", 0)).toBe(a);
    expect(book.carried("guard", "k1", 1)).not.toBe(a);
    expect(a).toMatchObject({ filter: "guard", key: "k1", attempt: 0, id: versionId("guard", "k1"), alone: [a] });
  });

  it("dates the running version by the first ACK of its key, and keeps the sent ids until the node is forgotten", () => {
    const book = new NodeBook();
    const sent = book.pushed("n1", ECDS, "v1", [], 1);
    sent.add("guard|k1");
    book.markRunning("n1", "guard", "k1", 10);
    book.markRunning("n1", "guard", "k1", 20);
    expect(book.runningSince("n1", "guard")).toEqual({ key: "k1", at: 10 });
    book.markRunning("n1", "guard", "k2", 30);
    expect(book.runningSince("n1", "guard")).toEqual({ key: "k2", at: 30 });
    book.unsend("guard|k1", ["n1"]);
    book.pushed("n1", ECDS, "v2", [], 2).add("guard|k2");
    expect([...(book.forget("n1") ?? [])]).toEqual(["guard|k2"]);
    expect(book.size).toBe(0);
    expect(book.runningSince("n1", "guard")).toBeUndefined();
  });
});
