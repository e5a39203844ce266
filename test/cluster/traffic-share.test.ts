/**
 * Traffic counts from every replica (issue 19, "signals from every replica
 * count"): canary analysis compares failed and total requests per version,
 * and each replica counts only its own nodes' stats. With the canaries on
 * replica B, leader A used to see no traffic at all; now each replica shares
 * its counts through etcd and adds the others', so A counts B's requests
 * for the version B's nodes run, and so does a third replica.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { SimFleet } from "../../src/sim";
import { guardConfig, removeFolder, tempConfigFolder, writeGuard } from "../helpers/config-folder";
import { type TestEtcd, describeWithEtcd, startEtcd } from "../helpers/etcd";
import { waitFor } from "../helpers/wait";
import { fixture } from "../helpers/wasm-bytes";
import { type Replica, startReplica, stopReplica, testPrefix } from "./replica-harness";

describeWithEtcd("traffic counts shared between replicas", () => {
  let etcd: TestEtcd;
  let dir: string;
  const replicas: Replica[] = [];
  let fleet: SimFleet | undefined;

  beforeAll(async () => {
    etcd = await startEtcd();
    dir = await tempConfigFolder({}, "wasmxds-traffic-");
    await writeGuard(dir, guardConfig(["code: inline", "configuration: {}"]), fixture("good_http"));
    const prefix = testPrefix();
    for (const id of ["a", "b", "c"]) replicas.push(await startReplica(dir, id, { endpoints: [etcd.endpoint], prefix }));
  }, 60_000);

  afterAll(async () => {
    await fleet?.stop();
    for (const r of replicas) await stopReplica(r);
    await etcd?.close();
    if (dir) await removeFolder(dir);
  });

  it("the leader counts the requests of nodes on another replica", async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    await waitFor("a leads", () => a.app.cluster?.election.isLeader(), 10_000);
    const since = Date.now();
    fleet = new SimFleet({ nodes: 2, idPrefix: "on-b-", xdsAddress: `127.0.0.1:${b.app.xdsAddress.port}`, traffic: { rps: 40 }, metricsService: { flushIntervalMs: 250 } });
    await fleet.start();
    const key = await waitFor("b's nodes run the guard", () => b.app.pipeline.nodeVersions("on-b-0").get("guard"), 15_000);
    await waitFor("b counts its nodes' requests", () => b.app.traffic.counts("guard", key, since).total >= 40, 15_000);
    // A (leader) and C count B's traffic too, from the same nodes.
    for (const r of [a, c]) {
      const seen = await waitFor(`${r.id} counts b's requests`, () => {
        const counts = r.app.traffic.counts("guard", key, since);
        return counts.total >= 40 ? counts : undefined;
      }, 10_000);
      expect(seen.nodes).toBe(2);
      expect(seen.failed).toBe(0);
    }
    // Once B stops counting, the others hold what it counted (each batch taken once, never twice).
    await fleet.stop();
    fleet = undefined;
    await new Promise((r) => setTimeout(r, 2500));
    const onB = b.app.traffic.counts("guard", key, since).total;
    await waitFor("a holds every request b counted", () => a.app.traffic.counts("guard", key, since).total === onB, 5000);
    expect(c.app.traffic.counts("guard", key, since).total).toBe(onB);
  }, 60_000);
});
