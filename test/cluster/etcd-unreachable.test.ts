/**
 * etcd trouble is survivable (issue 19): with etcd stopped, both replicas
 * keep serving what they have (a node that connects now still gets its
 * config), nobody leads (decisions pause), and /healthz and /v1/cluster say
 * etcd is unreachable; when etcd comes back on the same data, a leader is
 * elected again and both report etcd reachable, after an outage long
 * enough for many failed lease grants.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ClusterStatus } from "../../src/cluster";
import { SimFleet } from "../../src/sim";
import { makeFolder, removeFolder, rolloutYaml } from "../helpers/config-folder";
import { type TestEtcd, describeWithEtcd, startEtcd } from "../helpers/etcd";
import { runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { type Replica, startReplica, stopReplica, testPrefix } from "./replica-harness";

async function get(r: Replica, path: string): Promise<{ status: number; text: string }> {
  const a = r.app.adminAddress!;
  const res = await fetch(`http://${a.host}:${a.port}${path}`);
  return { status: res.status, text: await res.text() };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeWithEtcd("etcd unreachable", () => {
  let etcd: TestEtcd;
  let dir: string;
  let v1: string;
  const replicas: Replica[] = [];
  const fleets: SimFleet[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    ({ dir, v1 } = await makeFolder(rolloutYaml({ steps: "        - { percent: 100 }" })));
    const prefix = testPrefix();
    for (const id of ["a", "b"]) replicas.push(await startReplica(dir, id, { endpoints: [etcd.endpoint], prefix, leaseTtlSec: 2 }));
  }, 60_000);

  afterAll(async () => {
    for (const f of fleets) await f.stop();
    await etcd?.restart().catch(() => {});
    for (const r of replicas) await stopReplica(r);
    await etcd?.close();
    if (dir) await removeFolder(dir);
  });

  it("keeps serving, pauses decisions, says so, and resumes", async () => {
    const [a, b] = replicas as [Replica, Replica];
    await waitFor("a leads", () => a.app.cluster!.election.isLeader());
    expect((await get(b, "/healthz")).text).toBe("ok\n");

    await etcd.stop(true);
    await waitFor("nobody leads", () => !a.app.cluster!.election.isLeader() && !b.app.cluster!.election.isLeader(), 5000);
    await waitUntil("healthz says etcd is unreachable", async () => /etcd unreachable/.test((await get(a, "/healthz")).text), 10_000);
    const h = await get(b, "/healthz");
    expect(h.status).toBe(200);
    expect(h.text).toMatch(/^ok: serving; etcd unreachable .*: decisions paused\n$/);
    const status = JSON.parse((await get(b, "/v1/cluster")).text) as ClusterStatus;
    expect(status).toMatchObject({ replica: "b", leading: false, etcd: { reachable: false } });

    // Serving goes on: a node connecting now gets the config it would have got.
    const late = new SimFleet({ nodes: 1, idPrefix: "late-", xdsAddress: `127.0.0.1:${b.app.xdsAddress.port}`, perNode: () => ({ cluster: "edge" }) });
    fleets.push(late);
    await late.start();
    await waitFor("the late node runs v1", () => runningGuard(late.nodes[0]!) === v1, 10_000);

    // A longer outage: each failed lease grant used to start another re-grant loop (they multiplied
    // until the worker ran out of memory), and gRPC's reconnect backoff grew towards two minutes.
    await new Promise((r) => setTimeout(r, 10_000));
    const back = Date.now();
    await etcd.restart();
    await waitFor("a leader again", () => replicas.some((r) => r.app.cluster!.election.isLeader()), 15_000);
    console.info(`a leader again ${Date.now() - back} ms after etcd came back`);
    await waitUntil("both report etcd reachable", async () => (await get(a, "/healthz")).text === "ok\n" && (await get(b, "/healthz")).text === "ok\n", 15_000);
    expect(replicas.filter((r) => r.app.cluster!.election.isLeader())).toHaveLength(1);
  }, 90_000);
});
