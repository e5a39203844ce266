/**
 * Per-group snapshots for rollouts, node selectors and re-pushes. A node's
 * group key says, for each filter where it differs from the base snapshot,
 * whether it runs the rollout's candidate (`=c`), does not run the filter at
 * all (`=-`, its selector excludes the node), or gets re-push attempt n of
 * remote code over ECDS after a cache-miss NACK (`=r<n>`, with `=c+r<n>` for
 * a canary; health/cache-miss.ts); the empty key is the base snapshot. All
 * nodes on the same attempt share one group, so re-pushes cost one snapshot
 * per attempt, not per node. Variant snapshots share every unchanged resource with the base
 * (Snapshot.create reuses them), so a canary group costs one changed ECDS
 * resource, encoded once for all its nodes.
 */
import type { SnapshotCache } from "../cache/snapshot-cache";
import { Snapshot } from "../cache/snapshot";
import type { Logger } from "../logger";
import { type ModuleServerAddress, buildResources } from "../resources";
import type { NodeInfo } from "../vocabulary/node-info";
import { matchesSelector } from "../vocabulary/node-selector";
import type { ConnectedNodes, RepushAttempts, RolloutSplit } from "./policies";
import type { PublishedState } from "./publisher";

export const BASE_GROUP = "";

/** Which snapshot group a node is in (the cache's NodeHash); GroupSnapshots is the one implementation. */
export interface NodeGrouping {
  groupOf(node: NodeInfo): string;
}

export class GroupSnapshots implements NodeGrouping {
  private published: PublishedState | undefined;
  private built = new Map<string, Snapshot>();

  constructor(
    private readonly o: {
      readonly cache: SnapshotCache;
      readonly nodes: ConnectedNodes;
      readonly rollouts: Pick<RolloutSplit, "membership">;
      readonly repush: RepushAttempts;
      readonly moduleServer: ModuleServerAddress;
      readonly logger: Logger;
    },
  ) {}

  /** The cache's group function. */
  groupOf(node: NodeInfo): string {
    const p = this.published;
    if (!p) return BASE_GROUP;
    const marks: string[] = [];
    for (const f of p.loaded.config.filters) {
      if (f.selector && !matchesSelector(node, f.selector)) {
        marks.push(`${f.name}=-`);
        continue;
      }
      const canary = p.canaries.has(f.name) && this.o.rollouts.membership(f, node) !== undefined;
      const repush = this.o.repush.attemptOf(node.id, f.name);
      const mark = [...(canary ? ["c"] : []), ...(repush > 0 ? [`r${repush}`] : [])].join("+");
      if (mark) marks.push(`${f.name}=${mark}`);
    }
    return marks.join(";");
  }

  /** Moves one node to the group it belongs in now (a re-push changed it). */
  regroup(nodeId: string): void {
    this.o.nodes.regroup((n) => n.id === nodeId);
  }

  /** After every publish or membership change: rebuild the groups in use and move streams between them. */
  refresh(published: PublishedState): void {
    this.published = published;
    this.built = new Map();
    const cache = this.o.cache;
    const inUse = new Set(this.o.nodes.nodes().map((n) => this.groupOf(n)));
    for (const g of cache.groups()) if (!inUse.has(g)) cache.clearSnapshot(g);
    for (const g of inUse) if (g !== BASE_GROUP) this.provide(g);
    this.o.nodes.regroup();
  }

  /** Builds (once per publish) and publishes a group's snapshot; the cache calls it for new groups. */
  provide(group: string): Snapshot | undefined {
    if (group === BASE_GROUP || !this.published) return undefined;
    const known = this.built.get(group);
    if (known) return known;
    const p = this.published;
    const marks = new Map(group.split(";").map((m) => m.split("=") as [string, string]));
    const canary = (name: string) => marks.get(name)?.split("+").includes("c") === true;
    const repushes = new Map<string, number>();
    for (const [name, mark] of marks) {
      const r = /(?:^|\+)r([0-9]+)$/.exec(mark);
      if (r) repushes.set(name, Number(r[1]));
    }
    const config = {
      ...p.loaded.config,
      filters: p.loaded.config.filters.map((f) => (canary(f.name) ? (p.canaries.get(f.name)?.filter ?? f) : (p.served.get(f.name)?.filter ?? f))),
      listeners: p.loaded.config.listeners.map((l) => ({ ...l, filters: l.filters.filter((f) => marks.get(f) !== "-") })),
    };
    const modules = new Map([...p.served].map(([name, s]) => [name, canary(name) ? (p.canaries.get(name)?.module ?? s.module) : s.module]));
    try {
      const snapshot = Snapshot.create(buildResources({ config, modules, moduleServer: this.o.moduleServer, repushes }), p.snapshot);
      this.o.cache.setSnapshot(group, snapshot);
      this.built.set(group, snapshot);
      return snapshot;
    } catch (err) {
      // The base config was valid, so this is a bug; serve the base rather than nothing.
      this.o.logger.error("could not build a group's snapshot; serving the base snapshot", { group, err: String(err) });
      return undefined;
    }
  }
}
