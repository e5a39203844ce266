/**
 * Replicas for the cluster tests: each a whole control plane in-process
 * (startTestApp, every port 0) with its own state folder (module store),
 * the same config folder (replicas are deployed identically), and the
 * shared state in the test's etcd under a prefix of its own.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterOptions } from "../../src/cluster";
import type { RunningWasmxds, WasmxdsOptions } from "../../src/main";
import { startTestApp } from "../helpers/app";

export interface Replica {
  readonly id: string;
  readonly app: RunningWasmxds;
  readonly stateDir: string;
}

let prefixes = 0;

/** A prefix no other test uses in the same etcd. */
export function testPrefix(): string {
  return `/wasmxds-test/${process.pid}-${Date.now()}-${++prefixes}`;
}

export async function startReplica(
  dir: string,
  id: string,
  cluster: Omit<ClusterOptions, "replicaId" | "leaseTtlSec"> & Partial<Pick<ClusterOptions, "leaseTtlSec">>,
  extra: Partial<WasmxdsOptions> = {},
): Promise<Replica> {
  const stateDir = await mkdtemp(join(tmpdir(), `wasmxds-replica-${id}-`));
  const app = await startTestApp(dir, { stateDir, cluster: { leaseTtlSec: 2, ...cluster, replicaId: id }, ...extra });
  return { id, app, stateDir };
}

/** Stops a replica cleanly (its lease is revoked: another leads at once). */
export async function stopReplica(r: Replica | undefined): Promise<void> {
  if (!r) return;
  await r.app.close(0);
  await rm(r.stateDir, { recursive: true, force: true });
}

/** Stops a replica like kill -9: its etcd lease is left to expire, its sockets closed. */
export async function crashReplica(r: Replica): Promise<void> {
  r.app.cluster?.crash();
  await r.app.close(0).catch(() => {});
  await rm(r.stateDir, { recursive: true, force: true });
}

/** Events of a type across replicas' local logs. */
export function eventsOf(replicas: readonly Replica[], type: string) {
  return replicas.flatMap((r) => r.app.events.list({ types: [type] }).map((e) => ({ replica: r.id, e })));
}
