/**
 * `wasmxds serve --etcd-endpoints ... --etcd-ca --etcd-cert --etcd-key`
 * (issue 19): the command joins a cluster on a real etcd that serves https
 * and requires client certificates (etcdctl's meanings for the three files),
 * leads it alone, and says so in GET /v1/cluster; without the client
 * certificate etcd refuses it and the start fails naming etcd. The flags'
 * usage errors name the flag.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseClusterFlags } from "../../src/cli/cluster-flags";
import { makeCa, makeLeaf, makeServerCert } from "../helpers/certificates";
import { execFile } from "node:child_process";
import { BIN, startCli } from "../helpers/cli-process";
import { makeFolder, removeFolder, rolloutYaml } from "../helpers/config-folder";
import { type TestEtcd, describeWithEtcd, startEtcd } from "../helpers/etcd";

describe("replica flags", () => {
  it("are refused without --etcd-endpoints, and checked with it", () => {
    expect(parseClusterFlags({})).toBeUndefined();
    expect(() => parseClusterFlags({ "etcd-prefix": "/x" })).toThrow("--etcd-prefix needs --etcd-endpoints");
    expect(() => parseClusterFlags({ "etcd-endpoints": "10.0.0.5:2379" })).toThrow('--etcd-endpoints: expected http://HOST:PORT or https://HOST:PORT, got "10.0.0.5:2379"');
    expect(() => parseClusterFlags({ "etcd-endpoints": "http://a:2379", "etcd-cert": "c.pem" })).toThrow("--etcd-cert and --etcd-key go together");
    expect(() => parseClusterFlags({ "etcd-endpoints": "http://a:2379", "etcd-lease-ttl": "500ms" })).toThrow("--etcd-lease-ttl: expected whole seconds, at least 2s");
    expect(() => parseClusterFlags({ "etcd-endpoints": "http://a:2379", "etcd-prefix": "wasmxds" })).toThrow("--etcd-prefix: expected a key prefix starting with /");
    const o = parseClusterFlags({ "etcd-endpoints": "http://10.0.0.5:2379, http://10.0.0.6:2379", "etcd-prefix": "/wasmxds/prod/", "etcd-lease-ttl": "15" });
    expect(o).toMatchObject({ endpoints: ["http://10.0.0.5:2379", "http://10.0.0.6:2379"], prefix: "/wasmxds/prod", leaseTtlSec: 15 });
    expect(o?.replicaId).toMatch(new RegExp(`-${process.pid}$`));
  });
});

describeWithEtcd("serve on etcd over mTLS", () => {
  let etcd: TestEtcd;
  let tlsDir: string;
  let dir: string;
  const files = { ca: "", cert: "", key: "" };

  beforeAll(async () => {
    tlsDir = await mkdtemp(join(tmpdir(), "wasmxds-etcd-tls-"));
    const ca = await makeCa("etcd test CA");
    const server = await makeServerCert(ca, { cn: "etcd" });
    const client = await makeLeaf(ca, { cn: "wasmxds" });
    const f = (n: string) => join(tlsDir, n);
    await Promise.all([
      writeFile(f("ca.pem"), ca.cert),
      writeFile(f("server.pem"), server.cert),
      writeFile(f("server-key.pem"), server.key),
      writeFile(f("client.pem"), client.cert),
      writeFile(f("client-key.pem"), client.key),
    ]);
    Object.assign(files, { ca: f("ca.pem"), cert: f("client.pem"), key: f("client-key.pem") });
    etcd = await startEtcd({ tls: { caFile: f("ca.pem"), certFile: f("server.pem"), keyFile: f("server-key.pem"), clientCertAuth: true } });
    ({ dir } = await makeFolder(rolloutYaml({ steps: "        - { percent: 100 }" })));
  }, 60_000);

  afterAll(async () => {
    await etcd?.close();
    if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
    if (dir) await removeFolder(dir);
  });

  const base = () => ["serve", "-c", dir, "--state-dir", join(dir, ".state"), "--xds-address", "127.0.0.1:0", "--modules-address", "127.0.0.1:0", "--admin-address", "127.0.0.1:0"];

  it("joins with the client certificate and leads", async () => {
    const cli = startCli([...base(), "--etcd-endpoints", etcd.endpoint, "--etcd-prefix", "/tls-test", "--etcd-ca", files.ca, "--etcd-cert", files.cert, "--etcd-key", files.key, "--replica-id", "tls-1"]);
    try {
      const ready = await cli.waitFor((l) => l.msg === "wasmxds ready", 20_000);
      const res = await fetch(`http://${String(ready.admin)}/v1/cluster`);
      const status = (await res.json()) as { replica: string; leading: boolean; etcd: { reachable: boolean }; replicas: Array<{ id: string }> };
      expect(status).toMatchObject({ replica: "tls-1", leading: true, etcd: { reachable: true } });
      expect(status.replicas.map((r) => r.id)).toEqual(["tls-1"]);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  }, 40_000);

  it("fails to start without the client certificate, naming etcd", async () => {
    const args = [BIN, ...base(), "--etcd-endpoints", etcd.endpoint, "--etcd-prefix", "/tls-test", "--etcd-ca", files.ca, "--replica-id", "tls-2"];
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(process.execPath, args, { env: { ...process.env, NO_COLOR: "1" }, timeout: 30_000 }, (err, _out, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stderr })),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ETCD_UNAVAILABLE.*etcd https:\/\/127\.0\.0\.1/);
  }, 40_000);
});
