/**
 * The snapshot cache as a library (`wasmxds/cache`): resources encoded once,
 * snapshots per node group, the consistency check. Serve it with
 * `XdsServer` from `wasmxds/xds`.
 *
 * @module wasmxds/cache
 */
export type { NodeInfo } from "../vocabulary/node-info";
export { assertConsistent, findInconsistencies, type Inconsistency } from "./consistency";
export { byCluster, byMetadata, byNodeId, type NodeGroupFn, singleGroup } from "./node-group";
export { type Reference, referencesOf } from "./references";
export { makeResource, type Resource, type ResourceInput } from "./resource";
export { type BodyCacheLimits, DEFAULT_BODY_CACHE_LIMITS, type ResponseBody, Snapshot, type SnapshotInput, TypeSnapshot } from "./snapshot";
export { SnapshotCache, type SnapshotCacheOptions, type SnapshotWatcher } from "./snapshot-cache";
export { setVersion } from "./versions";
