/**
 * The replica flags of `wasmxds serve` (docs/REPLICAS.md): `--etcd-endpoints`
 * makes the process one replica of a cluster with its state in etcd; the
 * others only mean something with it (and are refused without it, so a
 * typo does not silently run a lone process). etcdctl's meanings for the
 * TLS files.
 */
import { hostname } from "node:os";
import { DEFAULT_ETCD_PREFIX, DEFAULT_LEASE_TTL_SEC, type ClusterOptions } from "../cluster";
import { parseDuration } from "../config/duration";
import { WasmxdsError } from "../errors";

export const CLUSTER_OPTIONS = {
  "etcd-endpoints": { type: "string" },
  "etcd-prefix": { type: "string" },
  "etcd-ca": { type: "string" },
  "etcd-cert": { type: "string" },
  "etcd-key": { type: "string" },
  "replica-id": { type: "string" },
  "etcd-lease-ttl": { type: "string" },
} as const;

export const CLUSTER_USAGE = `
      --etcd-endpoints URL,URL  run as one replica of a cluster whose state (known-good
                                versions, quarantines, rollouts) lives in etcd; the
                                elected leader decides, every replica serves
                                (docs/REPLICAS.md; without it: one process, --state-dir)
      --etcd-prefix PREFIX      the cluster's keys in etcd (default: ${DEFAULT_ETCD_PREFIX})
      --etcd-ca FILE            CA of etcd's https endpoints (etcdctl --cacert)
      --etcd-cert FILE --etcd-key FILE
                                client certificate for etcd (etcdctl --cert, --key)
      --replica-id ID           this replica's name (default: host name and pid)
      --etcd-lease-ttl DURATION a dead leader is replaced within about this long
                                (default: ${DEFAULT_LEASE_TTL_SEC}s; whole seconds, at least 2s)`;

type ClusterFlags = { readonly [K in keyof typeof CLUSTER_OPTIONS]?: string };

/** The cluster options, or undefined without --etcd-endpoints; usage errors name the flag. */
export function parseClusterFlags(v: ClusterFlags): ClusterOptions | undefined {
  const endpoints = v["etcd-endpoints"];
  if (endpoints === undefined) {
    const stray = (Object.keys(CLUSTER_OPTIONS) as Array<keyof ClusterFlags>).find((k) => v[k] !== undefined);
    if (stray) throw new WasmxdsError("USAGE", `--${stray} needs --etcd-endpoints (without it wasmxds runs alone with --state-dir)`);
    return undefined;
  }
  const list = endpoints.split(",").map((e) => e.trim()).filter((e) => e !== "");
  if (list.length === 0) throw new WasmxdsError("USAGE", "--etcd-endpoints: expected one or more URLs separated by commas");
  for (const e of list) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(e)) throw new WasmxdsError("USAGE", `--etcd-endpoints: expected http://HOST:PORT or https://HOST:PORT, got "${e}"`);
  }
  const prefix = v["etcd-prefix"] ?? DEFAULT_ETCD_PREFIX;
  if (!prefix.startsWith("/") || prefix.length < 2) throw new WasmxdsError("USAGE", `--etcd-prefix: expected a key prefix starting with / (like /wasmxds/prod), got "${prefix}"`);
  if ((v["etcd-cert"] === undefined) !== (v["etcd-key"] === undefined)) throw new WasmxdsError("USAGE", "--etcd-cert and --etcd-key go together: give both or neither");
  const replicaId = v["replica-id"] ?? `${hostname()}-${process.pid}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(replicaId)) throw new WasmxdsError("USAGE", `--replica-id: expected letters, digits, '.', '_', ':' or '-' (at most 128), got "${replicaId}"`);
  return {
    endpoints: list,
    prefix: prefix.replace(/\/+$/, ""),
    replicaId,
    leaseTtlSec: parseTtl(v["etcd-lease-ttl"]),
    ...(v["etcd-ca"] !== undefined && { caFile: v["etcd-ca"] }),
    ...(v["etcd-cert"] !== undefined && { certFile: v["etcd-cert"] }),
    ...(v["etcd-key"] !== undefined && { keyFile: v["etcd-key"] }),
  };
}

function parseTtl(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LEASE_TTL_SEC;
  const d = parseDuration(/^\d+$/.test(text) ? `${text}s` : text);
  if ("error" in d) throw new WasmxdsError("USAGE", `--etcd-lease-ttl: ${d.error}`);
  // etcd leases count whole seconds, and refuse very short ones (its minimum is about 1.5 election timeouts).
  if (d.ms % 1000 !== 0 || d.ms < 2000) throw new WasmxdsError("USAGE", `--etcd-lease-ttl: expected whole seconds, at least 2s, got "${text}"`);
  return d.ms / 1000;
}
