/**
 * The replicas section of `wasmxds status` (docs/REPLICAS.md): which
 * replicas are alive, which one leads, whether etcd answers, and for every
 * node of the fleet the replica it is connected to. Read from
 * GET /v1/cluster, which exists only on a replica (--etcd-endpoints); a
 * single process has no section.
 */
import type { ClusterStatus } from "../cluster";
import type { AdminClient } from "./admin-client";
import { type Terminal, paint } from "./output";

/** The cluster's status, or undefined for a single process (no /v1/cluster). */
export async function fetchClusterStatus(admin: AdminClient): Promise<ClusterStatus | undefined> {
  try {
    return await admin.get<ClusterStatus>("/v1/cluster");
  } catch (err) {
    if (err instanceof Error && /: 404 /.test(err.message)) return undefined;
    throw err;
  }
}

export function renderCluster(term: Terminal, c: ClusterStatus, maxNodes = 50): string[] {
  const b = (t: string) => paint(term, "bold", t);
  const etcd = c.etcd.reachable ? paint(term, "green", "reachable") : paint(term, "red", `unreachable (${c.etcd.error ?? "lease not confirmed"}): decisions paused`);
  const lines = [b(`Replicas (${c.replicas.length})`), `  etcd ${c.etcd.endpoints.join(",")} ${c.etcd.prefix}: ${etcd}`];
  for (const r of c.replicas) {
    const leads = c.leader?.replica === r.id ? paint(term, "green", " leader") : "";
    const self = r.id === c.replica ? " (this one)" : "";
    lines.push(`  ${b(r.id)}${leads}${self}  xds ${r.xds ?? "-"}  admin ${r.admin ?? "-"}  since ${r.startedAt}`);
  }
  if (!c.leader) lines.push(`  ${paint(term, "yellow", "no leader now")}`);
  lines.push("", b(`Nodes by replica (${c.nodes.length})`));
  for (const n of c.nodes.slice(0, maxNodes)) lines.push(`  ${n.id} -> ${n.replicas.join(", ")}`);
  if (c.nodes.length > maxNodes) lines.push(`  ... and ${c.nodes.length - maxNodes} more`);
  return lines;
}
