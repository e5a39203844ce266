/**
 * A real etcd for tests (Debian's etcd-server, `/usr/bin/etcd`; CI installs
 * it in .ci/run): one member in a temporary data dir, client and peer URLs
 * on free loopback ports, started by the test and stopped by it. Tests that
 * need it skip with a clear message when the binary is absent.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { describe } from "vitest";
import { freePort } from "./ports";

export const ETCD_BINARY = process.env.WASMXDS_TEST_ETCD ?? "etcd";

/** Whether an etcd binary runs here (else the caller skips). */
export function etcdAvailable(): boolean {
  const r = spawnSync(ETCD_BINARY, ["--version"], { stdio: "ignore" });
  return r.status === 0;
}

export const ETCD_MISSING = `etcd not found (${ETCD_BINARY}): install Debian's etcd-server (apt-get install etcd-server) to run the cluster tests`;

/** `describe` where etcd runs; elsewhere the suite is skipped, its name saying why. */
export function describeWithEtcd(name: string, body: () => void): void {
  if (etcdAvailable()) describe(name, body);
  else describe.skip(`${name} (skipped: ${ETCD_MISSING})`, body);
}

export interface EtcdTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Require client certificates signed by caFile. */
  readonly clientCertAuth?: boolean;
}

export interface TestEtcd {
  /** The client URL (http://127.0.0.1:<port>, https with tls). */
  readonly endpoint: string;
  readonly dataDir: string;
  /** Stops the member (SIGKILL with `kill`), keeping the data dir. */
  stop(kill?: boolean): Promise<void>;
  /** Starts it again on the same ports and data dir (after stop). */
  restart(): Promise<void>;
  /** Stops it and removes the data dir. */
  close(): Promise<void>;
}

export async function startEtcd(options: { readonly tls?: EtcdTls } = {}): Promise<TestEtcd> {
  const dataDir = await mkdtemp(join(tmpdir(), "wasmxds-etcd-"));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const scheme = options.tls ? "https" : "http";
  const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    "--name",
    "test",
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    endpoint,
    "--advertise-client-urls",
    endpoint,
    "--listen-peer-urls",
    peer,
    "--initial-advertise-peer-urls",
    peer,
    "--initial-cluster",
    `test=${peer}`,
    "--log-level",
    "error",
    "--logger",
    "zap",
    ...(options.tls
      ? ["--cert-file", options.tls.certFile, "--key-file", options.tls.keyFile, "--trusted-ca-file", options.tls.caFile, ...(options.tls.clientCertAuth ? ["--client-cert-auth"] : [])]
      : []),
  ];
  let child: ChildProcess | undefined;
  let output = "";
  const launch = async () => {
    output = "";
    const c = spawn(ETCD_BINARY, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.env.ETCD_UNSUPPORTED_ARCH ?? "" } });
    c.stdout?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    c.stderr?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    child = c;
    await waitHealthy(endpoint, c, () => output, options.tls);
  };
  const stop = async (kill = false) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    c.kill(kill ? "SIGKILL" : "SIGTERM");
    await exited;
  };
  await launch();
  return {
    endpoint,
    dataDir,
    stop,
    restart: launch,
    close: async () => {
      await stop(true);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitHealthy(endpoint: string, child: ChildProcess, output: () => string, tls: EtcdTls | undefined): Promise<void> {
  const { readFileSync } = await import("node:fs");
  const client = new Etcd3({
    hosts: endpoint,
    dialTimeout: 1000,
    ...(tls && {
      credentials: { rootCertificate: readFileSync(tls.caFile), ...(tls.clientCertAuth && { certChain: readFileSync(tls.certFile), privateKey: readFileSync(tls.keyFile) }) },
    }),
  });
  const deadline = Date.now() + 15_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited (${child.exitCode}) at start: ${output()}`);
      try {
        await client.get("wasmxds-test-ping").string();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`etcd at ${endpoint} not ready in 15s: ${(err as Error).message}\n${output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.close();
  }
}
