/**
 * Checks of the node a peer names itself as, shared by the xDS streams and
 * the metrics and access log services: a node id of a megabyte would be a
 * key in every per-node map (stream index, stats, health), so it is refused
 * at the edge with a message naming the limit.
 */
import type { NodeInfo } from "../vocabulary/node-info";

export interface NodeLimits {
  readonly maxNodeIdLength: number;
  readonly maxNodeMetadataBytes: number;
}

/** What is wrong with the node, or undefined when it is within the limits. */
export function nodeProblem(node: NodeInfo, limits: NodeLimits): string | undefined {
  const strings: Array<[string, string]> = [
    ["id", node.id],
    ["cluster", node.cluster],
    ["user_agent", node.userAgent],
    ["locality.region", node.locality.region],
    ["locality.zone", node.locality.zone],
    ["locality.sub_zone", node.locality.subZone],
  ];
  for (const [field, value] of strings) {
    if (value.length > limits.maxNodeIdLength) {
      return `node.${field} is ${value.length} characters long, the limit is ${limits.maxNodeIdLength}`;
    }
  }
  const metadata = JSON.stringify(node.metadata).length;
  if (metadata > limits.maxNodeMetadataBytes) {
    return `node.metadata is ${metadata} characters of JSON, the limit is ${limits.maxNodeMetadataBytes}`;
  }
  return undefined;
}
