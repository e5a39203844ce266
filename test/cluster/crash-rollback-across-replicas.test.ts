/**
 * Signals from every replica count (issue 19): three replicas on one etcd,
 * the fleet spread over them. A version that crashes under traffic on the
 * nodes of replica B is rolled back by the leader (replica A), which never
 * saw those nodes, for the nodes of A and C too: one decision, recorded
 * once in the cluster's event log and in one replica's log. A replica
 * started afterwards serves the good version from its first publish.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { SimFleet } from "../../src/sim";
import { guardConfig, tempConfigFolder, writeGuard, removeFolder } from "../helpers/config-folder";
import { type TestEtcd, describeWithEtcd, startEtcd } from "../helpers/etcd";
import { runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { fixture } from "../helpers/wasm-bytes";
import { type Replica, eventsOf, startReplica, stopReplica, testPrefix } from "./replica-harness";

const yaml = (configuration: string) =>
  guardConfig(["code: inline", "failurePolicy: FAIL_RELOAD", "reloadBackoff: { base: 10ms }", `configuration: ${configuration}`, "health: { goodAfter: 60s, window: 30s, nodeShare: 0.2 }"]);

describeWithEtcd("crash rollback decided from a canary on another replica", () => {
  let etcd: TestEtcd;
  let dir: string;
  const replicas: Replica[] = [];
  const fleets: SimFleet[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    dir = await tempConfigFolder({}, "wasmxds-cluster-");
    await writeGuard(dir, yaml("{}"), fixture("good_http"));
    const prefix = testPrefix();
    for (const id of ["a", "b", "c"]) replicas.push(await startReplica(dir, id, { endpoints: [etcd.endpoint], prefix }));
  }, 60_000);

  afterAll(async () => {
    for (const f of fleets) await f.stop();
    for (const r of replicas) await stopReplica(r);
    await etcd?.close();
    if (dir) await removeFolder(dir);
  });

  it("rolls back on every replica, recorded once", async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    await waitFor("a leads", () => a.app.cluster!.election.isLeader());
    expect(b.app.cluster!.election.isLeader()).toBe(false);
    expect(c.app.cluster!.election.isLeader()).toBe(false);
    const good = a.app.publisher.published!.modules.get("guard")!;
    // The baseline is known-good in the shared state, so followers read it too.
    await waitFor("baseline shared", () => b.app.versions.lastGood("guard")?.sha256 === good);

    const fleet = (r: Replica, prefix: string, nodes: number, rps: number) =>
      new SimFleet({ nodes, idPrefix: prefix, xdsAddress: `127.0.0.1:${r.app.xdsAddress.port}`, traffic: { rps }, metricsService: { flushIntervalMs: 250 } });
    fleets.push(fleet(a, "on-a-", 2, 0), fleet(b, "on-b-", 1, 40), fleet(c, "on-c-", 1, 0));
    for (const f of fleets) await f.start();
    await waitFor("fleets LIVE", () => fleets.every((f) => f.summary().live === f.nodes.length), 15_000);

    const bad = await writeGuard(dir, yaml('{"crashAfter":20}'), fixture("trap_nth_request"));
    for (const r of replicas) expect((await r.app.reload()).ok).toBe(true);
    await waitFor("every node runs the new version", () => fleets.every((f) => f.nodes.every((n) => runningGuard(n) === bad)), 15_000);

    // Only B's node crashes; A, the leader, decides from B's signals.
    await waitFor("rollback on the leader", () => a.app.events.list({ types: ["rollback"] })[0], 20_000);
    // The decision reaches the other replicas' snapshots through etcd's watch within a second.
    const decidedAt = Date.now();
    await waitFor("B and C publish the good version", () => [b, c].every((r) => r.app.publisher.published!.modules.get("guard") === good), 1000);
    const appliedMs = Date.now() - decidedAt;
    await waitFor("every node of every replica back on the good version", () => fleets.every((f) => f.nodes.every((n) => runningGuard(n) === good)), 10_000);

    const rollbacks = eventsOf(replicas, "rollback");
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]!.replica).toBe("a");
    expect(rollbacks[0]!.e.message).toMatch(/on-b-/);
    for (const r of replicas) expect(r.app.versions.quarantined("guard").map((q) => q.sha256)).toEqual([bad]);
    console.info(`rollback decided on replica a applied by replicas b and c within ${appliedMs} ms`);
    const decided = (await a.app.cluster!.decisions.list()).filter((e) => e.event.type === "rollback");
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({ replica: "a", event: { details: { sha256: bad } } });

    // Clearing the quarantine is the leader's: a follower refuses, naming it, and changes nothing.
    const clear = await fetch(`http://127.0.0.1:${b.app.adminAddress!.port}/v1/filters/guard/quarantine/clear`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(clear.status).toBe(409);
    expect(((await clear.json()) as { error: string }).error).toBe(`this replica does not lead the cluster; ask the leader (replica a at 127.0.0.1:${a.app.adminAddress!.port}); nothing was changed`);
    expect(b.app.versions.quarantined("guard")).toHaveLength(1);

    // A replica (re)started now reads the quarantine from etcd before its first publish: it never serves the bad version.
    const d = await startReplica(dir, "d", { endpoints: [a.app.cluster!.connection.options.endpoints[0]!], prefix: a.app.cluster!.connection.options.prefix });
    replicas.push(d);
    expect(d.app.publisher.published!.modules.get("guard")).toBe(good);
    expect(d.app.cluster!.election.isLeader()).toBe(false);
  }, 90_000);
});
