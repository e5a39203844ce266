/**
 * The policies the serving pipeline applies, as plain interfaces with one
 * implementation each (go-control-plane's Callbacks style): the pipeline
 * knows what it asks, not who answers. main.ts hands in the implementations.
 *
 *   VersionSelection  health/select-version.ts    known-good, quarantine fallback
 *   RolloutSplit      rollout/controller.ts       base and canary per filter, and the decisions to apply after a publish
 *   RepushAttempts    health/cache-miss.ts        re-push attempt of remote code over ECDS per node
 *   NodeGrouping      control/group-snapshots.ts  which snapshot group a node is in
 *   ConnectedNodes    xds/xds-server.ts           the nodes with open streams
 */
import type { ServedFilter } from "../config/filter-version";
import type { FilterConfig } from "../config/model";
import type { RolloutDecision, RolloutMembership, RolloutSplitResult } from "../rollout/decisions";
import type { NodeInfo } from "../vocabulary/node-info";

/** How a version came to be served instead of (or as) the folder's candidate. */
export type SelectionReason = "candidate" | "fallback" | "previous" | "quarantined-only";

/** Health: the version a filter may serve, given the one the folder names and what it serves now. */
export interface VersionSelection {
  select(candidate: ServedFilter, servedNow: ServedFilter | undefined): { readonly served: ServedFilter; readonly reason: SelectionReason };
}

/**
 * Rollouts: split is pure (what nodes outside and inside the filter's
 * rollout run, and what the folder's version implies); apply runs after a
 * successful publish. The controller advances its steps on its own tick and
 * asks the pipeline for a rebuild through its queue (ServingPipeline.schedule).
 */
export interface RolloutSplit {
  split(chosen: ServedFilter): RolloutSplitResult;
  apply(decisions: readonly RolloutDecision[]): void;
  /** Why the node runs the filter's rollout candidate, or undefined (it runs the base). */
  membership(filter: FilterConfig, node: NodeInfo): RolloutMembership | undefined;
  /** Modules the rollout state needs kept in the store. */
  pinned(): Iterable<string>;
}

/** Remote code over ECDS: the re-push attempt a node gets for a filter after cache-miss NACKs (0: none). */
export interface RepushAttempts {
  attemptOf(nodeId: string, filter: string): number;
}

/** The nodes with open xDS streams, as the pipeline needs them (XdsServer fits): the pipeline never imports the protocol layer. */
export interface ConnectedNodes {
  /** The node of every open stream that named one (XdsServer.nodes: no stream status is built). */
  nodes(): readonly NodeInfo[];
  nodeInfo(nodeId: string): NodeInfo | undefined;
  /** Re-evaluates the group of every stream (or those whose node matches). */
  regroup(which?: (node: NodeInfo) => boolean): void;
}
