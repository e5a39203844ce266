/**
 * What the rest of the control plane reads of the xDS streams, wherever
 * they run: in this process (XdsServer) or spread over worker processes
 * (workers/pool.ts, `--workers N`). Health, rollouts, the pipeline and the
 * admin API depend on this, never on where a stream's socket lives.
 */
import type { SnapshotCache } from "../cache/snapshot-cache";
import type { NodeInfo } from "../vocabulary/node-info";
import type { NackRecord, XdsEvents } from "./events";
import type { StreamStatus } from "./type-state";

export interface XdsStreams {
  /** Connects, pushes, ACKs, NACKs and disconnects of every stream. */
  readonly events: XdsEvents;
  readonly cache: SnapshotCache;
  /** Status of every open stream. */
  streamStatuses(): StreamStatus[];
  /** The node of every open stream that named one, without building statuses. */
  nodes(): NodeInfo[];
  /** Open streams (with or without a node yet). */
  readonly streamCount: number;
  /** The node of the oldest open stream identified as `nodeId`. */
  nodeInfo(nodeId: string): NodeInfo | undefined;
  /** NACKs received, oldest first (bounded history). */
  nacks(filter?: { nodeId?: string; typeUrl?: string }): NackRecord[];
  /** Re-evaluates the group of every stream (or those whose node matches). */
  regroup(which?: (node: NodeInfo) => boolean): void;
  /** Ends every stream cleanly (status OK), e.g. on shutdown. */
  closeAllStreams(): void;
}
