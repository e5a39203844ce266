/** The cluster layer: several replicas as one control plane over etcd (docs/REPLICAS.md). */
export { Cluster, type ClusterStatus } from "./cluster";
export { type ClusterOptions, DEFAULT_ETCD_PREFIX, DEFAULT_LEASE_TTL_SEC } from "./etcd-connection";
export type { ClusterEvent } from "./cluster-events";
export type { ReplicaRecord } from "./replicas";
