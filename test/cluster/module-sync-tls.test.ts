/**
 * Modules between replicas whose module servers run `--modules-tls`
 * (issue 15 with issue 19): replica B, whose folder lacks the leader's
 * candidate, fetches its module from A's module server over https, checked
 * against `--modules-ca`, and its canary node runs it. Before, module sync
 * spoke plain http and got nothing from an https module server.
 */
import { cp, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SimFleet } from "../../src/sim";
import { makeCa, makeServerCert, type TlsFiles, writeTlsFiles } from "../helpers/certificates";
import { makeFolder, removeFolder, rolloutYaml, tempConfigFolder, writeVersion } from "../helpers/config-folder";
import { type TestEtcd, describeWithEtcd, startEtcd } from "../helpers/etcd";
import { runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { type Replica, startReplica, stopReplica, testPrefix } from "./replica-harness";

const STEPS = `        - { selector: { metadata: { ring: canary } }, bake: 1h }
        - { percent: 100 }`;

describeWithEtcd("module sync between replicas with --modules-tls", () => {
  let etcd: TestEtcd;
  let dirA: string;
  let dirB: string;
  let v1: string;
  let tls: TlsFiles;
  let a: Replica;
  let b: Replica;
  let fleet: SimFleet | undefined;

  beforeAll(async () => {
    etcd = await startEtcd();
    const ca = await makeCa();
    // Server-only TLS on the gRPC port (no --client-ca), so the simulated nodes need only the CA.
    const files = await writeTlsFiles(await mkdtemp(join(tmpdir(), "wasmxds-sync-tls-")), await makeServerCert(ca), ca);
    tls = files;
    ({ dir: dirA, v1 } = await makeFolder(rolloutYaml({ steps: STEPS })));
    dirB = await tempConfigFolder({}, "wasmxds-replica-b-");
    await cp(dirA, dirB, { recursive: true });
    const prefix = testPrefix();
    const secured = { tls: { certFile: files.certFile, keyFile: files.keyFile }, modulesTls: { caFile: files.clientCaFile } };
    a = await startReplica(dirA, "a", { endpoints: [etcd.endpoint], prefix }, secured);
    b = await startReplica(dirB, "b", { endpoints: [etcd.endpoint], prefix }, secured);
  }, 60_000);

  afterAll(async () => {
    await fleet?.stop();
    await stopReplica(b);
    await stopReplica(a);
    await etcd?.close();
    for (const d of [dirA, dirB]) if (d) await removeFolder(d);
  });

  it("fetches the leader's candidate over https and serves it", async () => {
    await waitFor("a leads", () => a.app.cluster?.election.isLeader(), 10_000);
    const ca = await readFile(tls.clientCaFile, "utf8");
    fleet = new SimFleet({
      nodes: 1,
      idPrefix: "on-b-",
      xdsAddress: `127.0.0.1:${b.app.xdsAddress.port}`,
      perNode: () => ({ cluster: "edge", metadata: { ring: "canary" }, tls: { ca } }),
    });
    await fleet.start();
    await waitFor("node on v1", () => runningGuard(fleet!.nodes[0]!) === v1, 15_000);
    const v2 = await writeVersion(dirA, "v2", rolloutYaml({ steps: STEPS }));
    expect((await a.app.reload()).ok).toBe(true);
    await waitFor("B's canary runs the leader's candidate", () => runningGuard(fleet!.nodes[0]!) === v2, 15_000);
    expect(b.app.store.has(v2)).toBe(true);
  }, 60_000);
});
