/**
 * Node groups: the cache keeps one snapshot per group, and a function maps
 * each connecting node to its group (go-control-plane's NodeHash). The
 * default groups by node id; fleets usually group by cluster or a metadata key.
 */
import type { NodeInfo } from "../vocabulary/node-info";

export type NodeGroupFn = (node: NodeInfo) => string;

export const byNodeId: NodeGroupFn = (node) => node.id;

export const byCluster: NodeGroupFn = (node) => node.cluster;

/** Groups by the string value of a metadata key (nodes without it share `fallback`). */
export function byMetadata(key: string, fallback = ""): NodeGroupFn {
  return (node) => {
    const v = node.metadata[key];
    return typeof v === "string" ? v : v === undefined ? fallback : JSON.stringify(v);
  };
}

/** Every node in one group: one snapshot for the whole fleet. */
export const singleGroup: NodeGroupFn = () => "*";
