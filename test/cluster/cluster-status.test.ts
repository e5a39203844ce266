/**
 * Status across the cluster (issue 19): on any replica, GET /v1/cluster and
 * `wasmxds status` show every replica, the leader, and for every node of
 * the fleet the replica it is connected to; a follower refuses rollout
 * commands naming the leader; a replica that leaves is gone from the list,
 * its nodes with it.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { statusCommand } from "../../src/cli/status";
import type { ClusterStatus } from "../../src/cluster";
import { SimFleet } from "../../src/sim";
import { makeFolder, removeFolder, rolloutYaml } from "../helpers/config-folder";
import { type TestEtcd, describeWithEtcd, startEtcd } from "../helpers/etcd";
import { memoryTerminal } from "../helpers/terminal";
import { waitFor } from "../helpers/wait";
import { type Replica, startReplica, stopReplica, testPrefix } from "./replica-harness";

describeWithEtcd("cluster status", () => {
  let etcd: TestEtcd;
  let dir: string;
  const replicas: Replica[] = [];
  const fleets: SimFleet[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    ({ dir } = await makeFolder(rolloutYaml({ steps: "        - { percent: 100 }" })));
    const prefix = testPrefix();
    for (const id of ["a", "b"]) replicas.push(await startReplica(dir, id, { endpoints: [etcd.endpoint], prefix }));
  }, 60_000);

  afterAll(async () => {
    for (const f of fleets) await f.stop();
    for (const r of replicas) await stopReplica(r);
    await etcd?.close();
    if (dir) await removeFolder(dir);
  });

  const statusOf = (r: Replica) => r.app.cluster!.status(r.app.xds.streamStatuses().flatMap((s) => (s.node ? [s.node] : [])));

  it("shows replicas, the leader and each node's replica", async () => {
    const [a, b] = replicas as [Replica, Replica];
    await waitFor("a leads", () => a.app.cluster!.election.isLeader(), 10_000);
    for (const [r, n] of [[a, 2], [b, 1]] as const) {
      fleets.push(new SimFleet({ nodes: n, idPrefix: `on-${r.id}-`, xdsAddress: `127.0.0.1:${r.app.xdsAddress.port}`, perNode: () => ({ cluster: "edge" }) }));
    }
    for (const f of fleets) await f.start();
    await waitFor("b sees every node", () => statusOf(b).nodes.length === 3 && statusOf(b).replicas.every((r) => r.xds !== null), 10_000);

    const term = memoryTerminal();
    expect(await statusCommand.run(["--admin-address", `127.0.0.1:${b.app.adminAddress!.port}`], term, new AbortController().signal)).toBe(0);
    const out = term.text().out;
    expect(out).toContain("Replicas (2)");
    expect(out).toMatch(/ a leader {2}xds 127\.0\.0\.1:\d+/);
    expect(out).toMatch(/ b \(this one\) {2}xds/);
    expect(out).toContain(`etcd ${etcd.endpoint}`);
    for (const line of ["on-a-0 -> a", "on-a-1 -> a", "on-b-0 -> b"]) expect(out).toContain(line);

    const json = memoryTerminal();
    await statusCommand.run(["--admin-address", `127.0.0.1:${a.app.adminAddress!.port}`, "--json"], json, new AbortController().signal);
    const cluster = (JSON.parse(json.text().out) as { cluster: ClusterStatus }).cluster;
    expect(cluster).toMatchObject({ replica: "a", leading: true, leader: { replica: "a" }, etcd: { reachable: true } });

    // Rollout commands go to the leader: a follower refuses them, naming it and its admin address.
    const refused = await fetch(`http://127.0.0.1:${b.app.adminAddress!.port}/v1/rollouts/guard/pause`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: string }).error).toBe(
      `this replica does not lead the cluster; ask the leader (replica a at 127.0.0.1:${a.app.adminAddress!.port})`,
    );

    // A replica that leaves revokes its lease: its record and its nodes' go at once.
    await fleets[0]!.stop();
    await stopReplica(replicas.shift());
    await waitFor("a gone from b's view", () => statusOf(b).replicas.map((r) => r.id).join() === "b" && statusOf(b).nodes.map((n) => n.id).join() === "on-b-0", 10_000);
    await waitFor("b leads", () => b.app.cluster!.election.isLeader(), 5000);
  }, 60_000);
});
