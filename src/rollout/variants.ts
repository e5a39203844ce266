/**
 * Per-group snapshots for rollouts and node selectors. A node's group key
 * says, for each filter where it differs from the base snapshot, whether it
 * runs the rollout's candidate (`=c`) or does not run the filter at all
 * (`=-`, its selector excludes the node); the empty key is the base
 * snapshot. Variant snapshots share every unchanged resource with the base
 * (Snapshot.create reuses them), so a canary group costs one changed ECDS
 * resource, encoded once for all its nodes.
 */
import type { SnapshotCache } from "../cache/snapshot-cache";
import { Snapshot } from "../cache/snapshot";
import type { PublishedState } from "../control/publisher";
import type { Logger } from "../logger";
import { buildResources } from "../resources";
import type { NodeInfo } from "../xds/node";
import type { XdsServer } from "../xds/xds-server";
import type { RolloutController } from "./controller";
import { matchesSelector } from "./selector";

export const BASE_GROUP = "";

export class VariantSnapshots {
  private published: PublishedState | undefined;
  private built = new Map<string, Snapshot>();

  constructor(
    private readonly o: {
      readonly cache: () => SnapshotCache;
      readonly xds: () => XdsServer;
      readonly rollouts: () => RolloutController;
      readonly moduleServer: () => { host: string; port: number };
      readonly logger: Logger;
    },
  ) {}

  /** The cache's group function. */
  groupOf(node: NodeInfo): string {
    const p = this.published;
    if (!p) return BASE_GROUP;
    const marks: string[] = [];
    for (const f of p.loaded.config.filters) {
      if (f.selector && !matchesSelector(node, f.selector)) marks.push(`${f.name}=-`);
      else if (p.canaries.has(f.name) && this.o.rollouts().isCanary(f, node)) marks.push(`${f.name}=c`);
    }
    return marks.join(";");
  }

  /** After every publish or membership change: rebuild the groups in use and move streams between them. */
  refresh(published: PublishedState): void {
    this.published = published;
    this.built = new Map();
    const cache = this.o.cache();
    const inUse = new Set(
      this.o
        .xds()
        .streamStatuses()
        .flatMap((s) => (s.node ? [this.groupOf(s.node)] : [])),
    );
    for (const g of cache.groups()) if (!inUse.has(g)) cache.clearSnapshot(g);
    for (const g of inUse) if (g !== BASE_GROUP) this.provide(g);
    this.o.xds().regroup();
  }

  /** Builds (once per publish) and publishes a group's snapshot; the cache calls it for new groups. */
  provide(group: string): Snapshot | undefined {
    if (group === BASE_GROUP || !this.published) return undefined;
    const known = this.built.get(group);
    if (known) return known;
    const p = this.published;
    const marks = new Map(group.split(";").map((m) => m.split("=") as [string, string]));
    const config = {
      ...p.loaded.config,
      filters: p.loaded.config.filters.map((f) => (marks.get(f.name) === "c" ? (p.canaries.get(f.name)?.filter ?? f) : (p.served.get(f.name)?.filter ?? f))),
      listeners: p.loaded.config.listeners.map((l) => ({ ...l, filters: l.filters.filter((f) => marks.get(f) !== "-") })),
    };
    const modules = new Map(
      [...p.served].map(([name, s]) => [name, marks.get(name) === "c" ? (p.canaries.get(name)?.module ?? s.module) : s.module]),
    );
    try {
      const snapshot = Snapshot.create(buildResources({ config, modules, moduleServer: this.o.moduleServer() }), p.snapshot);
      this.o.cache().setSnapshot(group, snapshot);
      this.built.set(group, snapshot);
      return snapshot;
    } catch (err) {
      // The base config was valid, so this is a bug; serve the base rather than nothing.
      this.o.logger.error("could not build a group's snapshot; serving the base snapshot", { group, err: String(err) });
      return undefined;
    }
  }
}
