/**
 * The serving pipeline: the one chain from the config folder to what each
 * node receives (docs/ARCHITECTURE.md):
 *
 *   publisher (load, resolve, pre-flight)  candidate version per filter
 *   -> VersionSelection (health)           known-good / quarantine fallback
 *   -> RolloutSplit (rollouts)             base and canary, decisions
 *   -> base snapshot -> cache              every node outside a group
 *   -> decisions applied                   after the publish succeeded
 *   -> GroupSnapshots (NodeGrouping)       per-group snapshots -> cache, streams regrouped
 *
 * Rebuilds go through one queue (schedule/reload; the publisher coalesces a
 * request made during a rebuild into one more after it), so nothing
 * re-enters a rebuild: the health monitor and the rollout controller decide
 * on their own ticks and ask for a rebuild here. "What does node X receive,
 * and why?" is answered by explain (explain.ts).
 */
import { type BackgroundReport, runInBackground } from "../background";
import { SnapshotCache } from "../cache/snapshot-cache";
import type { FilterConfig } from "../config/model";
import type { EventLog } from "../events/event-log";
import type { Logger } from "../logger";
import type { ModuleServerAddress } from "../resources";
import type { ModuleStore } from "../wasm/module-store";
import type { RemoteModuleResolver } from "../wasm/remote-fetch";
import type { OciResolver } from "../wasm/oci";
import { type NodeExplanation, type StreamTypeView, explainNode } from "./explain";
import { BASE_GROUP, GroupSnapshots } from "./group-snapshots";
import type { ConnectedNodes, RepushAttempts, RolloutSplit, VersionSelection } from "./policies";
import { type ModuleChecker, type PublishedState, type PublishResult, Publisher } from "./publisher";

export interface ServingPipelineOptions {
  readonly configDir: string;
  readonly store: ModuleStore;
  readonly resolver: RemoteModuleResolver;
  /** Pulls `oci://` modules (docs/OCI.md). */
  readonly oci?: Pick<OciResolver, "resolve">;
  /** Where the module server listens (remote DataSource URLs). */
  readonly moduleServer: ModuleServerAddress;
  readonly logger: Logger;
  readonly events: EventLog;
  readonly checkModule?: ModuleChecker;
  /** `--allow-empty` (removal-guard.ts). */
  readonly allowEmpty?: boolean;
  /** Modules the health state names (known-good versions): the store keeps them. */
  readonly pinnedModules?: () => Iterable<string>;
}

/** The policies and the streams, handed in by the composition root once they exist (they read the pipeline). */
export interface PipelineParts {
  readonly nodes: ConnectedNodes;
  readonly selection: VersionSelection;
  readonly rollouts: RolloutSplit;
  readonly repush: RepushAttempts;
  /** After every successful rebuild and its decisions (the health monitor tracks the versions served). */
  readonly onPublished?: (published: PublishedState) => void;
}

export class ServingPipeline {
  /** Snapshots per node group, filled only by this pipeline; the xDS server serves from it. */
  readonly cache: SnapshotCache;
  readonly publisher: Publisher;
  private parts: { readonly p: PipelineParts; readonly groups: GroupSnapshots } | undefined;
  private readonly bg: BackgroundReport;

  constructor(private readonly o: ServingPipelineOptions) {
    this.bg = { logger: o.logger, events: o.events };
    this.cache = new SnapshotCache({
      logger: o.logger.child({ component: "cache" }),
      groupOf: (node) => this.parts?.groups.groupOf(node) ?? BASE_GROUP,
      provider: (group) => this.parts?.groups.provide(group),
    });
    this.publisher = new Publisher({
      configDir: o.configDir,
      cache: this.cache,
      store: o.store,
      resolver: o.resolver,
      ...(o.oci && { oci: o.oci }),
      moduleServer: o.moduleServer,
      logger: o.logger,
      ...(o.checkModule && { checkModule: o.checkModule }),
      ...(o.allowEmpty !== undefined && { allowEmpty: o.allowEmpty }),
      selection: { select: (candidate, now) => this.connected().p.selection.select(candidate, now) },
      rollouts: { split: (chosen) => this.connected().p.rollouts.split(chosen) },
      // Everything the persisted state names stays in the store, so a rollback never finds its module gone.
      pinnedModules: () => [...(o.pinnedModules?.() ?? []), ...(this.parts?.p.rollouts.pinned() ?? [])],
      onPublished: (published) => this.published_(published),
    });
  }

  /** Hands in the policies and the streams; rebuilds may start after this. */
  connect(parts: PipelineParts): void {
    const groups = new GroupSnapshots({
      cache: this.cache,
      nodes: parts.nodes,
      rollouts: parts.rollouts,
      repush: parts.repush,
      moduleServer: this.o.moduleServer,
      logger: this.o.logger,
    });
    this.parts = { p: parts, groups };
  }

  /** The last published state: snapshot, config, what each filter serves and why. */
  get published(): PublishedState | undefined {
    return this.publisher.published;
  }

  /** Rebuilds now (coalesced with a rebuild in progress) and says how it went. */
  reload(): Promise<PublishResult> {
    return this.publisher.reload();
  }

  /** The one queue: asks for a rebuild without waiting for it; a failure is logged and recorded. */
  schedule(why: string): void {
    runInBackground(this.reload(), `rebuilding after ${why}`, this.bg);
  }

  /** Moves one node to the group it belongs in now (its re-push attempt changed). */
  regroup(nodeId: string): void {
    this.parts?.groups.regroup(nodeId);
  }

  /** The served config's filter of that name. */
  filter(name: string): FilterConfig | undefined {
    return this.published?.loaded.config.filters.find((f) => f.name === name);
  }

  /** A served listener's filter names, in order (access log signals name their listener). */
  listenerFilters(name: string): readonly string[] | undefined {
    return this.published?.loaded.config.listeners.find((l) => l.name === name)?.filters;
  }

  /** What a node runs: each filter's version key, the rollout candidate's where the node is in the rollout. */
  nodeVersions(nodeId: string): Map<string, string> {
    const p = this.published;
    const out = new Map<string, string>();
    if (!p || !this.parts) return out;
    // O(1): this runs for every push and ACK, so a scan of all streams would make a fan-out quadratic.
    const node = this.parts.p.nodes.nodeInfo(nodeId);
    for (const f of p.loaded.config.filters) {
      const canary = p.canaries.get(f.name);
      const base = p.served.get(f.name);
      const v = canary && node && this.parts.p.rollouts.membership(f, node) ? canary : base;
      if (v) out.set(f.name, v.key);
    }
    return out;
  }

  /** Whether a served filter version (base or canary) is remote code over ECDS, which Envoy NACKs on a cache miss. */
  remoteOverEcds(name: string, key: string): boolean {
    const p = this.published;
    const s = [p?.served.get(name), p?.canaries.get(name)].find((v) => v?.key === key);
    return s?.filter.code === "remote" && s.filter.discovery === "ecds";
  }

  /** Which version of each filter a connected node receives, and why; undefined when no such node is connected. */
  /** `types`: the node's stream status per resource type (what it was sent, what it NACKed). */
  explain(nodeId: string, types: readonly StreamTypeView[]): NodeExplanation | undefined {
    const parts = this.parts;
    const node = parts?.p.nodes.nodeInfo(nodeId);
    if (!parts || !node) return undefined;
    return explainNode(node, { published: this.published, rollouts: parts.p.rollouts, repush: parts.p.repush, group: parts.groups.groupOf(node), types });
  }

  private published_(published: PublishedState): void {
    const parts = this.connected();
    // Decided during the rebuild, persisted and announced only now that it is published.
    parts.p.rollouts.apply(published.decisions);
    parts.p.onPublished?.(published);
    parts.groups.refresh(published);
  }

  private connected(): NonNullable<ServingPipeline["parts"]> {
    if (!this.parts) throw new Error("ServingPipeline: connect() the policies before the first rebuild");
    return this.parts;
  }
}
