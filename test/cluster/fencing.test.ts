/**
 * One truth for state (issue 19): decisions are etcd transactions that
 * compare the leader key's create revision with the writer's term, and each
 * document's revision with the one it last saw. A replica whose term ended
 * (its lease gone, another replica elected) cannot overwrite the new
 * leader's decision, even if it has not noticed yet; its write is refused,
 * etcd keeps the newer value, and the stale replica re-reads it. A decision
 * and its entry in the log of decisions are one transaction: stored
 * together or not at all.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ClusterEvents } from "../../src/cluster/cluster-events";
import { Election } from "../../src/cluster/election";
import { EtcdConnection } from "../../src/cluster/etcd-connection";
import { EtcdStateStore } from "../../src/cluster/etcd-state-store";
import { EventLog } from "../../src/events/event-log";
import { memoryLogger } from "../../src/logger";
import { type TestEtcd, describeWithEtcd, startEtcd } from "../helpers/etcd";
import { waitFor } from "../helpers/wait";
import { testPrefix } from "./replica-harness";

const SHA = "a".repeat(64);
const quarantine = (reason: string) => ({ sha256: SHA, key: `${SHA}:${"0".repeat(16)}`, reason, at: new Date().toISOString(), nodes: [], signals: [] });

describeWithEtcd("fencing", () => {
  let etcd: TestEtcd;
  const conns: EtcdConnection[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
  }, 60_000);

  afterAll(async () => {
    for (const c of conns) await c.close();
    await etcd?.close();
  });

  it("refuses a stale leader's write and keeps the newer decision", async () => {
    const logger = memoryLogger();
    const bg = { logger, events: new EventLog() };
    const prefix = testPrefix();
    const replica = async (id: string) => {
      const c = await EtcdConnection.open({ endpoints: [etcd.endpoint], prefix, replicaId: id, leaseTtlSec: 2 }, logger, bg);
      conns.push(c);
      return c;
    };
    const c1 = await replica("one");
    const c2 = await replica("two");
    await c1.start();
    await c2.start();
    const e1 = new Election(c1, logger, bg);
    const e2 = new Election(c2, logger, bg);
    await e1.start();
    await e2.start();
    await waitFor("one leads", () => e1.isLeader());
    const staleTerm = e1.fence()!;
    const s1 = await EtcdStateStore.open(c1, () => staleTerm, logger);
    const s2 = await EtcdStateStore.open(c2, () => e2.fence(), logger);
    await s1.updateFilter("guard", (f) => ({ ...f, quarantined: [quarantine("by one while leading")] }));
    await waitFor("two reads one's decision", () => s2.filter("guard").quarantined[0]?.reason === "by one while leading");
    // A follower's write is refused before it reaches etcd, and its memory is unchanged.
    await expect(s2.updateFilter("guard", (f) => f)).rejects.toMatchObject({ code: "NOT_LEADER" });

    // One's term ends (its lease is revoked as if it expired); two is elected.
    await c1.close();
    await waitFor("two leads", () => e2.isLeader(), 10_000);
    expect(BigInt(e2.fence()!)).toBeGreaterThan(BigInt(staleTerm));
    await s2.updateFilter("guard", () => ({ quarantined: [quarantine("by two, the new leader")] }));

    // One, still believing in its old term, tries to overwrite: refused by etcd's compare on the leader key.
    const c1b = await replica("one-again");
    await c1b.start();
    const stale = await EtcdStateStore.open(c1b, () => staleTerm, logger);
    await expect(stale.updateFilter("guard", () => ({ quarantined: [] }))).rejects.toMatchObject({ code: "NOT_LEADER" });
    const stored = await c2.ns.get("state/filters/guard").string();
    expect(JSON.parse(stored!)).toMatchObject({ quarantined: [{ reason: "by two, the new leader" }] });
    // The stale replica re-read etcd: its memory holds the new leader's decision, not its own refused change.
    expect(stale.filter("guard").quarantined[0]?.reason).toBe("by two, the new leader");
    e1.stop();
    e2.stop();
    for (const s of [s1, s2, stale]) s.close();
  }, 60_000);

  it("stores a decision and its log entry in one transaction", async () => {
    const logger = memoryLogger();
    const events = new EventLog();
    const bg = { logger, events };
    const conn = await EtcdConnection.open({ endpoints: [etcd.endpoint], prefix: testPrefix(), replicaId: "solo", leaseTtlSec: 2 }, logger, bg);
    conns.push(conn);
    await conn.start();
    const election = new Election(conn, logger, bg);
    await election.start();
    await waitFor("solo leads", () => election.isLeader());
    let fence: string | undefined = election.fence();
    const store = await EtcdStateStore.open(conn, () => fence, logger);
    new ClusterEvents(conn, () => fence, store, bg).follow(events);

    // As the monitor does: the quarantine, then its event, in the same tick.
    const written = store.updateFilter("guard", () => ({ quarantined: [quarantine("crashes")] }));
    events.add("rollback", "health", "guard@aaaaaaaa rolled back");
    await written;
    await store.flush();
    const state = (await conn.ns.get("state/filters/guard").exec()).kvs[0]!;
    const logged = (await conn.ns.getAll().prefix("events/").exec()).kvs;
    expect(logged).toHaveLength(1);
    expect(logged[0]!.mod_revision).toBe(state.mod_revision);

    // Fenced off: neither the decision nor its entry is stored.
    fence = "1";
    const refused = store.updateFilter("guard", () => ({ quarantined: [] }));
    events.add("quarantine-cleared", "operator", "cleared");
    await expect(refused).rejects.toMatchObject({ code: "NOT_LEADER" });
    await store.flush();
    expect((await conn.ns.getAll().prefix("events/").keys()).length).toBe(1);
    expect(JSON.parse((await conn.ns.get("state/filters/guard").string())!)).toMatchObject({ quarantined: [{ reason: "crashes" }] });
    election.stop();
    store.close();
  }, 30_000);
});
