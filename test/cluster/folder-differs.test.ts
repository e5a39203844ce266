/**
 * The same versions everywhere (issue 19): each replica reads its own copy
 * of the config folder. When replica B's copy lags behind the leader's (a
 * deployment half done), B says so loudly (a warning and a
 * replica-config-differs event naming the filter and both versions, and in
 * /v1/cluster), and still serves the cluster's rollout: its canary node
 * runs the leader's candidate, whose module B fetched from A's module
 * server. Once B's folder matches, it says so.
 */
import { cp } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SimFleet } from "../../src/sim";
import { makeFolder, removeFolder, rolloutYaml, tempConfigFolder, writeVersion } from "../helpers/config-folder";
import { type TestEtcd, describeWithEtcd, startEtcd } from "../helpers/etcd";
import { runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { type Replica, startReplica, stopReplica, testPrefix } from "./replica-harness";

const STEPS = `        - { selector: { metadata: { ring: canary } }, bake: 1h }
        - { percent: 100 }`;

describeWithEtcd("a replica whose folder differs from the leader's", () => {
  let etcd: TestEtcd;
  let dirA: string;
  let dirB: string;
  let v1: string;
  let a: Replica;
  let b: Replica;
  let fleet: SimFleet | undefined;

  beforeAll(async () => {
    etcd = await startEtcd();
    ({ dir: dirA, v1 } = await makeFolder(rolloutYaml({ steps: STEPS })));
    dirB = await tempConfigFolder({}, "wasmxds-replica-b-");
    await cp(dirA, dirB, { recursive: true });
    const prefix = testPrefix();
    a = await startReplica(dirA, "a", { endpoints: [etcd.endpoint], prefix });
    b = await startReplica(dirB, "b", { endpoints: [etcd.endpoint], prefix });
  }, 60_000);

  afterAll(async () => {
    await fleet?.stop();
    await stopReplica(b);
    await stopReplica(a);
    await etcd?.close();
    for (const d of [dirA, dirB]) if (d) await removeFolder(d);
  });

  it("says so loudly and serves the cluster's rollout", async () => {
    await waitFor("a leads", () => a.app.cluster!.election.isLeader(), 10_000);
    fleet = new SimFleet({
      nodes: 2,
      idPrefix: "on-b-",
      xdsAddress: `127.0.0.1:${b.app.xdsAddress.port}`,
      perNode: (i) => ({ cluster: "edge", metadata: { ring: i === 0 ? "canary" : "main" } }),
    });
    await fleet.start();
    await waitFor("fleet on v1", () => fleet!.nodes.every((n) => runningGuard(n) === v1), 15_000);

    // Only A's folder gets v2: A starts the rollout.
    const v2 = await writeVersion(dirA, "v2", rolloutYaml({ steps: STEPS }));
    expect((await a.app.reload()).ok).toBe(true);
    await waitFor("B's canary runs the leader's candidate", () => runningGuard(fleet!.nodes[0]!) === v2, 10_000);
    expect(runningGuard(fleet.nodes[1]!)).toBe(v1);
    expect(b.app.store.has(v2)).toBe(true);
    const differs = await waitFor("B says its folder differs", () => b.app.events.list({ types: ["replica-config-differs"] })[0], 5000);
    expect(differs.message).toMatch(/filter "guard": this replica's folder asks for [0-9a-f]{8}…[0-9a-f]{6}, the leader's \(a\) for [0-9a-f]{8}…[0-9a-f]{6}/);
    expect(differs.message).toContain(v1.slice(0, 8));
    expect(differs.message).toContain(v2.slice(0, 8));
    const s = b.app.cluster!.status([]);
    expect(s.folderDiffers).toHaveLength(1);
    expect(a.app.events.list({ types: ["replica-config-differs"] })).toHaveLength(0);

    // B's folder catches up.
    await writeVersion(dirB, "v2", rolloutYaml({ steps: STEPS }));
    expect((await b.app.reload()).ok).toBe(true);
    await waitFor("B says its folder agrees", () => b.app.events.list({ types: ["replica-config-agrees"] })[0], 5000);
    expect(b.app.cluster!.status([]).folderDiffers).toEqual([]);
    expect(runningGuard(fleet.nodes[0]!)).toBe(v2);
  }, 60_000);
});
