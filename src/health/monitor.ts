/**
 * The health monitor: turns NACKs and Envoy's stats into a verdict per
 * filter version and acts on it. A version in probation that breaches its
 * policy (docs/CONFIG.md "health") is quarantined and the filter goes back
 * to its last known-good version on every node, in one push; a version
 * served long enough, ACKed and without a breach becomes known-good.
 *
 * Attribution: stats that name a plugin (`wasm.<filter>@<sha8>.vm_reload_*`)
 * point at one version; a NACK names the plugin in Envoy's message
 * ("Unable to create Wasm plugin <name>") or, failing that, the ECDS
 * resources it rejected; signals that name no plugin (VM creations, 503s
 * with wasm_fail_stream, remote fetch failures) are pinned on the versions
 * still in probation on that node.
 */
import type { HealthPolicy } from "../config/model";
import type { EventLog } from "../control/event-log";
import { settingsOf } from "../control/filter-version";
import type { ServedFilter } from "../control/publisher";
import type { Logger } from "../logger";
import { TYPE_URLS } from "../resources/type-urls";
import type { XdsEvent } from "../xds/events";
import type { FilterVersions } from "./filter-versions";
import { type HealthSignal, parsePluginName } from "./signal";
import { VersionHealth } from "./version-health";

/** What a node runs: filter name -> version key (module sha256 and settings hash). */
export type NodeVersions = (nodeId: string) => ReadonlyMap<string, string>;

export interface MonitorOptions {
  readonly versions: FilterVersions;
  readonly policyOf: (filter: string) => HealthPolicy | undefined;
  /** How the filter reaches Envoy: its config rides in ECDS resources or in listeners. */
  readonly discoveryOf?: (filter: string) => "ecds" | "listener" | undefined;
  readonly nodeVersions: NodeVersions;
  /** Rebuild and publish (after a quarantine changed what may be served). */
  readonly republish: () => Promise<unknown>;
  readonly events: EventLog;
  readonly logger: Logger;
  readonly now?: () => number;
  /** VM creations within this long after a push to the node are config changes, not crashes. */
  readonly pushGraceMs?: number;
}

const PLUGIN_IN_TEXT = /([A-Za-z0-9][A-Za-z0-9._-]{0,99}@[0-9a-f]{8})/g;

export class HealthMonitor {
  private readonly tracked = new Map<string, VersionHealth>();
  private readonly lastPush = new Map<string, number>();
  /** Per node: what each pushed (type, version) carried, so an ACK proves exactly those versions. */
  private readonly pushed = new Map<string, Map<string, ReadonlyArray<readonly [string, string]>>>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  unattributed = 0;

  constructor(private readonly o: MonitorOptions) {
    this.now = o.now ?? Date.now;
  }

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.evaluate(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Starts tracking the versions now being served (call after every publish). */
  served(filters: ReadonlyMap<string, ServedFilter>): void {
    for (const [name, s] of filters) {
      const id = `${name}|${s.key}`;
      if (this.tracked.has(id)) continue;
      const v = new VersionHealth(name, s.key, s.module.sha256, settingsOf(s.filter), this.now());
      if (this.o.versions.lastGood(name)?.key === s.key) v.status = "good";
      this.tracked.set(id, v);
    }
  }

  /** The tracked state of every version, for the admin API. */
  versionsOf(filter: string): VersionHealth[] {
    return [...this.tracked.values()].filter((v) => v.filter === filter);
  }

  onXds(e: XdsEvent): void {
    const carriesFilters = (e.kind === "push" || e.kind === "ack") && (e.typeUrl === TYPE_URLS.extensionConfig || e.typeUrl === TYPE_URLS.listener);
    if (e.kind === "push" && carriesFilters) {
      this.lastPush.set(e.node.id, this.now());
      this.rememberPush(e.node.id, e.typeUrl, e.version, e.resourceNames);
    } else if (e.kind === "ack" && carriesFilters) {
      for (const [filter, key] of this.pushed.get(e.node.id)?.get(`${e.typeUrl} ${e.version}`) ?? []) {
        this.tracked.get(`${filter}|${key}`)?.acked.add(e.node.id);
      }
    } else if (e.kind === "disconnect") {
      this.pushed.delete(e.node.id);
    } else if (e.kind === "nack") {
      const signal: HealthSignal = {
        nodeId: e.nack.nodeId,
        kind: "nack",
        count: 1,
        evidence: e.nack.message,
        source: "xds",
        at: e.nack.at,
      };
      const named = [...e.nack.message.matchAll(PLUGIN_IN_TEXT)].map((m) => m[1]!);
      const targets = named.length > 0 ? named.flatMap((p) => this.byPlugin(p)) : this.byResources(e.nack.nodeId, e.nack.typeUrl, e.nack.resourceNames);
      this.attribute(signal, targets);
    }
  }

  onSignal(signal: HealthSignal): void {
    if (signal.plugin) {
      this.attribute(signal, this.byPlugin(signal.plugin));
      return;
    }
    if (signal.kind === "ecds_config_fail" && signal.filter) {
      this.attribute(signal, this.byResources(signal.nodeId, TYPE_URLS.extensionConfig, [signal.filter]));
      return;
    }
    if (signal.kind === "vm_created" && this.now() - (this.lastPush.get(signal.nodeId) ?? 0) < (this.o.pushGraceMs ?? 10_000)) return;
    // No plugin named: suspect the versions on trial on that node.
    const suspects = [...this.o.nodeVersions(signal.nodeId)]
      .map(([f, key]) => this.tracked.get(`${f}|${key}`))
      .filter((v): v is VersionHealth => v?.status === "probation");
    this.attribute(signal, suspects);
  }

  /** Promotes proven versions; run on a timer and after every signal. */
  async evaluate(): Promise<void> {
    const now = this.now();
    for (const v of this.tracked.values()) {
      // Known-good from elsewhere (the baseline, or state from an earlier run).
      if (v.status === "probation" && this.o.versions.lastGood(v.filter)?.key === v.key) v.status = "good";
      const policy = this.o.policyOf(v.filter);
      if (!policy || !v.provenGood(policy, now)) continue;
      v.status = "good";
      if (await this.o.versions.markGood(v.filter, { sha256: v.sha256, key: v.key, settings: v.settings })) {
        this.o.events.add("known-good", "health", `${v.plugin} is known-good (served ${Math.round((now - v.servedSince) / 1000)}s, ACKed by ${v.acked.size} node(s), no breach)`, {
          filter: v.filter,
          sha256: v.sha256,
        });
      }
    }
  }

  /** The filter versions a response carried: ECDS resources by name; listeners carry listener-discovery filters. */
  private rememberPush(nodeId: string, typeUrl: string, version: string, names: readonly string[]): void {
    const running = this.o.nodeVersions(nodeId);
    const carried = [...running].filter(([filter]) => {
      const discovery = this.o.discoveryOf?.(filter) ?? "ecds";
      return typeUrl === TYPE_URLS.extensionConfig ? discovery === "ecds" && names.includes(filter) : discovery === "listener";
    });
    let perNode = this.pushed.get(nodeId);
    if (!perNode) {
      perNode = new Map();
      this.pushed.set(nodeId, perNode);
    }
    perNode.set(`${typeUrl} ${version}`, carried);
    // Only recent pushes can still be ACKed.
    if (perNode.size > 16) perNode.delete(perNode.keys().next().value as string);
  }

  private byPlugin(plugin: string): VersionHealth[] {
    const p = parsePluginName(plugin);
    if (!p) return [];
    const running = [...this.tracked.values()].filter((v) => v.filter === p.filter && v.sha256.startsWith(p.sha8) && v.status !== "quarantined");
    // Several settings may have run the same module; blame the newest.
    return running.slice(-1);
  }

  private byResources(nodeId: string, typeUrl: string, names: readonly string[]): VersionHealth[] {
    if (typeUrl !== TYPE_URLS.extensionConfig) return [];
    const running = this.o.nodeVersions(nodeId);
    return names.flatMap((f) => {
      const key = running.get(f);
      const v = key ? this.tracked.get(`${f}|${key}`) : undefined;
      return v ? [v] : [];
    });
  }

  private attribute(signal: HealthSignal, targets: VersionHealth[]): void {
    if (targets.length === 0) {
      this.unattributed++;
      this.o.logger.debug("health signal not attributed to a version", { node: signal.nodeId, kind: signal.kind, evidence: signal.evidence });
      return;
    }
    for (const v of targets) {
      if (v.status === "quarantined") continue;
      v.record(signal);
      const policy = this.o.policyOf(v.filter);
      if (!policy) continue;
      const why = v.breach(policy, this.now());
      if (why) void this.onBreach(v, policy, why);
    }
  }

  private async onBreach(v: VersionHealth, policy: HealthPolicy, why: string): Promise<void> {
    if (v.status === "quarantined") return;
    const evidence = v.allEvidence();
    const nodes = [...new Set(evidence.map((e) => e.node))].sort();
    if (!policy.rollback) {
      this.o.events.add("breach", "health", `${v.plugin} breached its health policy (rollback disabled): ${why}`, { filter: v.filter, sha256: v.sha256, nodes });
      v.status = "quarantined";
      return;
    }
    v.status = "quarantined";
    const good = this.o.versions.lastGood(v.filter);
    await this.o.versions.quarantine(v.filter, {
      sha256: v.sha256,
      key: v.key,
      reason: why,
      at: new Date(this.now()).toISOString(),
      nodes,
      signals: evidence.slice(-50).map((e) => ({ kind: e.kind, node: e.node, count: e.count, evidence: e.evidence, at: new Date(e.at).toISOString() })),
    });
    const target = good && good.key !== v.key ? `rolled back to ${v.filter}@${good.sha256.slice(0, 8)}` : "quarantined, but there is no known-good version to roll back to";
    this.o.events.add("rollback", "health", `${v.plugin} ${target}: ${why}`, {
      filter: v.filter,
      sha256: v.sha256,
      lastGood: good?.sha256 ?? null,
      nodes,
      signals: evidence.slice(-20),
    });
    this.o.logger.error("filter version rolled back", { filter: v.filter, version: v.sha256.slice(0, 8), to: good?.sha256.slice(0, 8), reason: why });
    await this.o.republish();
  }
}
