/**
 * The health monitor: turns NACKs and Envoy's stats into a verdict per
 * filter version (verdict.ts) and acts on it. A version that breaches its
 * policy (docs/CONFIG.md "health") is quarantined and the filter goes back
 * to its last known-good version on every node, in one push; a version
 * served long enough, ACKed and without a breach becomes known-good.
 *
 * Who may complain: only a node connected over xDS that was sent the
 * version (push events say what each response carried). A NACK or a stat
 * from any other node is ignored and counted (`ignored`), so a client that
 * claims a node id cannot condemn what it never ran (issue 11).
 *
 * Attribution: stats that name a plugin (`wasm.<filter>@<sha8>.vm_reload_*`)
 * point at one version; a NACK names the plugin in Envoy's message
 * ("Unable to create Wasm plugin <name>") or, failing that, the ECDS
 * resources it rejected; signals that name no plugin (VM creations, 503s
 * with wasm_fail_stream, remote fetch failures) are pinned on the versions
 * still in probation on that node.
 */
import { type BackgroundReport, runInBackground } from "../background";
import type { HealthPolicy } from "../config/model";
import type { EventLog } from "../events/event-log";
import { type ServedFilter, settingsOf } from "../config/filter-version";
import type { Logger } from "../logger";
import { TYPE_URLS } from "../vocabulary/type-urls";
import { type Clock, type TimerHandle, every, realClock } from "../time/clock";
import type { NackRecord, XdsEvent } from "../xds/events";
import type { CacheMisses } from "./cache-miss";
import type { FilterVersions } from "./filter-versions";
import { type Leadership, alwaysLeader } from "./leadership";
import type { EvidenceSink, NodeEvidence } from "./node-evidence";
import { RemoteEvidence, versionId } from "./remote-evidence";
import { type HealthSignal, parsePluginName } from "./signal";
import { judge } from "./verdict";
import { DEFAULT_HEALTH_LIMITS, type HealthLimits, VersionHealth } from "./version-health";

/** What a node runs: filter name -> version key (module sha256 and settings hash). */
export type NodeVersions = (nodeId: string) => ReadonlyMap<string, string>;

export interface MonitorOptions {
  readonly versions: FilterVersions;
  readonly policyOf: (filter: string) => HealthPolicy | undefined;
  /** How the filter reaches Envoy: its config rides in ECDS resources or in listeners. */
  readonly discoveryOf?: (filter: string) => "ecds" | "listener" | undefined;
  readonly nodeVersions: NodeVersions;
  /** The filters of a served listener, in order (access log signals name their listener). */
  readonly listenerFilters?: (listener: string) => readonly string[] | undefined;
  /** Whether a node has an open xDS stream now (XdsServer.nodeInfo). */
  readonly connected: (nodeId: string) => boolean;
  /** Rebuild and publish (after a quarantine changed what may be served). */
  readonly republish: () => Promise<unknown>;
  readonly events: EventLog;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** VM creations within this long after a push to the node are config changes, not crashes. */
  readonly pushGraceMs?: number;
  readonly limits?: Partial<HealthLimits>;
  /**
   * Remote code over ECDS: whether the filter version is served that way,
   * and the tracker that tells its cache-miss NACKs from real ones
   * (cache-miss.ts). Without them every NACK is a NACK.
   */
  readonly remoteOverEcds?: (filter: string, key: string) => boolean;
  readonly cacheMisses?: CacheMisses;
  /**
   * With replicas: only the leader judges, quarantines and promotes; the
   * others gather evidence and hand it to `evidence` (default: always leader).
   */
  readonly leadership?: Leadership;
  /** Told of the evidence about this process's own nodes (replicas carry it to the leader, docs/REPLICAS.md). */
  readonly evidence?: EvidenceSink;
}

/** A filter version a response carried, and the re-push attempt it was built for. */
type Carried = readonly [filter: string, key: string, attempt: number];

const PLUGIN_IN_TEXT = /([A-Za-z0-9][A-Za-z0-9._-]{0,99}@[0-9a-f]{8})/g;
/** Responses remembered per node: only recent pushes can still be ACKed. */
const PUSHES_PER_NODE = 16;

export class HealthMonitor {
  private readonly tracked = new Map<string, VersionHealth>();
  private readonly lastPush = new Map<string, number>();
  /** Per node and filter: the version it runs and since when (its ACK), to date failures reported late. */
  private readonly runningSince = new Map<string, Map<string, { readonly key: string; readonly at: number }>>();
  /** Per node: what each pushed (type, version) carried, so an ACK proves exactly those versions. */
  private readonly pushed = new Map<string, Map<string, readonly Carried[]>>();
  /** Per node: the tracked versions it was sent (ids), to forget it in each when it goes. */
  private readonly sent = new Map<string, Set<string>>();
  /** Held-back verdicts already reported, per version id: the complainer count reported. */
  private readonly heldBack = new Map<string, number>();
  private readonly now: () => number;
  private readonly clock: Clock;
  private readonly limits: HealthLimits;
  private readonly bg: BackgroundReport;
  private readonly leadership: Leadership;
  /** Nodes of other replicas and what they said (remote-evidence.ts). */
  private readonly remote: RemoteEvidence;
  private timer: TimerHandle | undefined;
  /** Signals that named no version this monitor tracks. */
  unattributed = 0;
  /** ACKs not counted as evidence: the node had NACKed the version (docs/HEALTH.md, "An ACK is not always evidence"). */
  ackAfterNack = 0;
  /** Signals dropped by the policy: from a node not connected over xDS, or about a version it was never sent. */
  readonly ignored = { notConnected: 0, notSent: 0 };

  constructor(private readonly o: MonitorOptions) {
    this.clock = o.clock ?? realClock;
    this.now = () => this.clock.now();
    this.limits = { ...DEFAULT_HEALTH_LIMITS, ...o.limits };
    this.bg = { logger: o.logger, events: o.events };
    this.leadership = o.leadership ?? alwaysLeader;
    this.remote = new RemoteEvidence(
      (id) => this.tracked.get(id),
      (v, signal) => this.recordRemote(v, signal),
    );
  }

  start(intervalMs = 1000): void {
    this.timer = every(this.clock, intervalMs, () => runInBackground(() => this.evaluate(), "health evaluation", this.bg));
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** Starts tracking the versions now being served (call after every publish, with the base and the canary versions). */
  served(...maps: ReadonlyArray<ReadonlyMap<string, ServedFilter>>): void {
    const current = new Set<string>();
    for (const filters of maps) {
      for (const [name, s] of filters) {
        const id = versionId(name, s.key);
        current.add(id);
        if (this.tracked.has(id)) continue;
        const v = new VersionHealth(name, s.key, s.module.sha256, settingsOf(s.filter), this.now(), this.limits);
        if (this.o.versions.isQuarantined(name, s.key)) v.status = "quarantined";
        else if (this.o.versions.lastGood(name)?.key === s.key) v.status = "good";
        this.tracked.set(id, v);
        this.remote.adopt(id, v);
      }
    }
    this.forgetOld(current);
  }

  /** The tracked state of every version, for the admin API. */
  versionsOf(filter: string): VersionHealth[] {
    return [...this.tracked.values()].filter((v) => v.filter === filter);
  }

  /** Nodes with per-node state (bounded by the connected nodes), for tests and status. */
  get nodesTracked(): number {
    return new Set([...this.pushed.keys(), ...this.sent.keys(), ...this.lastPush.keys()]).size;
  }

  onXds(e: XdsEvent): void {
    const carriesFilters = (e.kind === "push" || e.kind === "ack") && (e.typeUrl === TYPE_URLS.extensionConfig || e.typeUrl === TYPE_URLS.listener);
    if (e.kind === "push" && carriesFilters) {
      this.lastPush.set(e.node.id, this.now());
      this.rememberPush(e.node.id, e.typeUrl, e.version, e.resourceNames);
    } else if (e.kind === "ack" && carriesFilters) {
      for (const [filter, key, attempt] of this.pushed.get(e.node.id)?.get(`${e.typeUrl} ${e.version}`) ?? []) {
        this.markRunning(e.node.id, filter, key);
        const v = this.tracked.get(versionId(filter, key));
        const remote = this.isRemoteEcds(e.typeUrl, filter, key);
        // Envoy's ECDS hash skip ACKs a re-sent NACKed config without running it (VersionHealth.ack, cache-miss.ts).
        const skipped = remote && this.o.cacheMisses?.acked(e.node.id, filter, key, attempt) === "skip";
        if (v && (skipped || !v.ack(e.node.id))) {
          this.ackAfterNack++;
          this.o.logger.debug("ACK not counted: the node NACKed this version before", { node: e.node.id, plugin: v.plugin });
        } else if (v) this.o.evidence?.acked(e.node.id, filter, key);
      }
    } else if (e.kind === "disconnect") {
      // A node may hold several streams: forget it only when the last one is gone.
      if (!this.o.connected(e.node.id)) this.forgetNode(e.node.id);
    } else if (e.kind === "nack") {
      if (!this.cacheMiss(e.nack)) this.nackSignal(e.nack);
    }
  }

  /** A NACK as a health signal (also called for a NACK of remote code that turned out not to be a cache miss). */
  nackSignal(nack: NackRecord): void {
    const signal: HealthSignal = { nodeId: nack.nodeId, kind: "nack", count: 1, evidence: nack.message, source: "xds", at: nack.at };
    const named = [...nack.message.matchAll(PLUGIN_IN_TEXT)].map((m) => m[1]!);
    const targets = named.length > 0 ? named.flatMap((p) => this.byPlugin(p)) : this.byResources(nack.nodeId, nack.typeUrl, nack.resourceNames);
    this.attribute(signal, targets);
  }

  /**
   * Whether an ECDS NACK is about remote code over ECDS only, and the
   * cache-miss tracker took it: Envoy NACKs a cache miss with the text of any
   * failure, so the tracker decides from context (docs/HEALTH.md, "Remote
   * code over ECDS"). A NACK that names another plugin as well is a NACK.
   */
  private cacheMiss(nack: NackRecord): boolean {
    const misses = this.o.cacheMisses;
    if (!misses || nack.typeUrl !== TYPE_URLS.extensionConfig) return false;
    const carried = (this.pushed.get(nack.nodeId)?.get(`${nack.typeUrl} ${nack.rejectedVersion}`) ?? []).filter(([f, key]) => this.isRemoteEcds(nack.typeUrl, f, key));
    if (carried.length === 0) return false;
    const named = [...nack.message.matchAll(PLUGIN_IN_TEXT)].map((m) => m[1]!);
    const plugin = ([f, key]: Carried) => `${f}@${key.slice(0, 8)}`;
    const suspects = named.length > 0 ? carried.filter((c) => named.includes(plugin(c))) : carried;
    if (suspects.length === 0 || (named.length > 0 && suspects.length < named.length)) return false;
    return suspects.map(([f, key, attempt]) => misses.nacked(nack, f, key, attempt)).every(Boolean);
  }

  private isRemoteEcds(typeUrl: string, filter: string, key: string): boolean {
    return typeUrl === TYPE_URLS.extensionConfig && this.o.remoteOverEcds?.(filter, key) === true;
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
    const onListener = signal.listener !== undefined ? this.byListener(signal.nodeId, signal.listener) : undefined;
    if (onListener) {
      this.attribute(signal, this.ranWhen(signal, onListener));
      return;
    }
    // No plugin named: suspect the versions on trial on that node.
    const suspects = [...this.o.nodeVersions(signal.nodeId)]
      .map(([f, key]) => this.tracked.get(versionId(f, key)))
      .filter((v): v is VersionHealth => v?.status === "probation");
    this.attribute(signal, this.ranWhen(signal, suspects));
  }

  /**
   * The suspects the node already ran when the failure happened. Envoy
   * buffers access logs (up to a second, docs/ENVOY.md "Access logs for
   * failure reports"), so failures of a version can arrive after the node
   * went back to the known-good one; pinned on what the node runs now, they
   * quarantined the known-good version too and left only the crashing one to
   * serve. A version the node ACKed after the failure's time did not cause it.
   * (Envoy's and the control plane's clocks are assumed in step, as NTP keeps them.)
   */
  private ranWhen(signal: HealthSignal, suspects: VersionHealth[]): VersionHealth[] {
    const at = signal.occurredAt;
    if (at === undefined) return suspects;
    const running = this.runningSince.get(signal.nodeId);
    return suspects.filter((v) => {
      const since = running?.get(v.filter);
      return !(since && since.key === v.key && since.at > at);
    });
  }

  private markRunning(nodeId: string, filter: string, key: string): void {
    let perNode = this.runningSince.get(nodeId);
    if (!perNode) {
      perNode = new Map();
      this.runningSince.set(nodeId, perNode);
    }
    if (perNode.get(filter)?.key !== key) perNode.set(filter, { key, at: this.now() });
  }

  /** Promotes proven versions and re-judges the ones with evidence; run on a timer and after start. */
  async evaluate(): Promise<void> {
    const now = this.now();
    const leader = this.leadership.isLeader();
    for (const v of [...this.tracked.values()]) {
      // Known-good from elsewhere (the baseline, state from an earlier run, or the leader's decision).
      if (v.status === "probation" && this.o.versions.lastGood(v.filter)?.key === v.key) v.status = "good";
      if (v.status !== "quarantined" && this.o.versions.isQuarantined(v.filter, v.key)) v.status = "quarantined";
      if (!leader) continue;
      const policy = this.o.policyOf(v.filter);
      if (!policy) continue;
      // Holders leave: evidence held back earlier may now come from enough of them.
      if (v.status !== "quarantined" && (v.nackCount > 0 || v.crashes.length > 0)) this.judge(v, policy);
      if (!v.provenGood(policy, now)) continue;
      v.status = "good";
      const marked = this.o.versions.markGood(v.filter, { sha256: v.sha256, key: v.key, settings: v.settings });
      if (!marked.changed) continue;
      runInBackground(marked.written, `saving ${v.plugin} as known-good to the state file`, this.bg);
      this.o.events.add("known-good", "health", `${v.plugin} is known-good (served ${Math.round((now - v.servedSince) / 1000)}s, ACKed by ${v.acked.size} node(s), no breach)`, {
        filter: v.filter,
        sha256: v.sha256,
      });
    }
  }

  /** The filter versions a response carried: ECDS resources by name; listeners carry listener-discovery filters. */
  private rememberPush(nodeId: string, typeUrl: string, version: string, names: readonly string[]): void {
    // Runs for every push of LDS or ECDS to every node: one lookup of the node's versions, no intermediate arrays.
    const ecds = typeUrl === TYPE_URLS.extensionConfig;
    const carried: Carried[] = [];
    for (const [filter, key] of this.o.nodeVersions(nodeId)) {
      const discovery = this.o.discoveryOf?.(filter) ?? "ecds";
      if (ecds ? discovery !== "ecds" || !names.includes(filter) : discovery !== "listener") continue;
      const attempt = this.o.cacheMisses?.attemptFor(nodeId, filter, key) ?? 0;
      carried.push([filter, key, attempt]);
      if (this.isRemoteEcds(typeUrl, filter, key)) this.o.cacheMisses?.sent(nodeId, filter, key, attempt);
    }
    let perNode = this.pushed.get(nodeId);
    if (!perNode) {
      perNode = new Map();
      this.pushed.set(nodeId, perNode);
    }
    perNode.set(`${typeUrl} ${version}`, carried);
    if (perNode.size > PUSHES_PER_NODE) perNode.delete(perNode.keys().next().value as string);
    for (const [filter, key] of carried) {
      const id = versionId(filter, key);
      const v = this.tracked.get(id);
      if (!v) continue;
      v.holders.add(nodeId);
      this.o.evidence?.holds(nodeId, filter, key);
      let ids = this.sent.get(nodeId);
      if (!ids) {
        ids = new Set();
        this.sent.set(nodeId, ids);
      }
      ids.add(id);
    }
  }

  private forgetNode(nodeId: string): void {
    for (const id of this.sent.get(nodeId) ?? []) this.tracked.get(id)?.holders.delete(nodeId);
    this.sent.delete(nodeId);
    this.pushed.delete(nodeId);
    this.lastPush.delete(nodeId);
    this.runningSince.delete(nodeId);
    this.o.cacheMisses?.forgetNode(nodeId);
    this.o.evidence?.forget(nodeId);
  }

  /**
   * Evidence about a node connected to another replica (node-evidence.ts):
   * its replica checked and attributed it; here it counts like our own.
   * Holds and ACKs are idempotent; signals are taken once each (by seq).
   */
  importRemote(nodeId: string, e: NodeEvidence): void {
    this.remote.import(nodeId, e);
  }

  private recordRemote(v: VersionHealth, signal: HealthSignal): void {
    if (v.status === "quarantined") return;
    v.record(signal);
    const policy = this.o.policyOf(v.filter);
    if (policy) this.judge(v, policy);
  }

  /** A node of another replica is gone (its replica said so, or died). */
  forgetRemote(nodeId: string): void {
    this.remote.forget(nodeId);
  }

  /** Keeps at most versionsPerFilter versions per filter: the oldest not being served go first. */
  private forgetOld(current: ReadonlySet<string>): void {
    const perFilter = new Map<string, string[]>();
    for (const [id, v] of this.tracked) perFilter.set(v.filter, [...(perFilter.get(v.filter) ?? []), id]);
    for (const ids of perFilter.values()) {
      let excess = ids.length - this.limits.versionsPerFilter;
      for (const id of ids) {
        if (excess <= 0) break;
        if (current.has(id)) continue;
        for (const node of this.tracked.get(id)?.holders ?? []) this.sent.get(node)?.delete(id);
        this.tracked.delete(id);
        this.heldBack.delete(id);
        excess--;
      }
    }
  }

  /**
   * The versions a listener runs on a node (access log signals, docs/HEALTH.md
   * "Failure reports"): those on trial if any, else all of them (a known-good
   * version that went bad); undefined when the listener is not served.
   */
  private byListener(nodeId: string, listener: string): VersionHealth[] | undefined {
    const filters = this.o.listenerFilters?.(listener);
    if (!filters) return undefined;
    const running = this.o.nodeVersions(nodeId);
    const held = filters.flatMap((f) => {
      const key = running.get(f);
      const v = key ? this.tracked.get(versionId(f, key)) : undefined;
      return v && v.status !== "quarantined" ? [v] : [];
    });
    const onTrial = held.filter((v) => v.status === "probation");
    return onTrial.length > 0 ? onTrial : held;
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
      const v = key ? this.tracked.get(versionId(f, key)) : undefined;
      return v ? [v] : [];
    });
  }

  private attribute(signal: HealthSignal, candidates: VersionHealth[]): void {
    if (!this.o.connected(signal.nodeId)) {
      this.ignore("notConnected", signal);
      return;
    }
    if (candidates.length === 0) {
      this.unattributed++;
      this.o.logger.debug("health signal not attributed to a version", { node: signal.nodeId, kind: signal.kind, evidence: signal.evidence });
      return;
    }
    const targets = candidates.filter((v) => v.holders.has(signal.nodeId));
    if (targets.length === 0) {
      this.ignore("notSent", signal);
      return;
    }
    for (const v of targets) {
      if (v.status === "quarantined") continue;
      v.record(signal);
      this.o.evidence?.signal(signal.nodeId, v.filter, v.key, signal);
      const policy = this.o.policyOf(v.filter);
      if (policy) this.judge(v, policy);
    }
  }

  private ignore(why: "notConnected" | "notSent", signal: HealthSignal): void {
    this.ignored[why]++;
    this.o.logger.debug(why === "notConnected" ? "health signal ignored: the node is not connected over xDS" : "health signal ignored: the node was never sent that version", {
      node: signal.nodeId,
      kind: signal.kind,
      source: signal.source,
    });
  }

  private judge(v: VersionHealth, policy: HealthPolicy): void {
    // Only the leader decides; the evidence stays here for when this replica leads.
    if (!this.leadership.isLeader()) return;
    const verdict = judge(v, policy, this.now());
    const id = versionId(v.filter, v.key);
    if (verdict.kind === "breach") {
      runInBackground(this.onBreach(v, policy, verdict.why), `rolling back ${v.plugin}`, this.bg);
    } else if (verdict.kind === "held-back" && this.heldBack.get(id) !== verdict.complainers) {
      // Said once per number of complaining nodes, so a flood of signals is one line.
      this.heldBack.set(id, verdict.complainers);
      this.o.logger.warn("health signals held back: too few of the nodes holding the version complained", { filter: v.filter, version: v.sha256.slice(0, 8), why: verdict.why });
      this.o.events.add("breach-held", "health", `${v.plugin} not rolled back: ${verdict.why}`, {
        filter: v.filter,
        sha256: v.sha256,
        complainers: verdict.complainers,
        holders: verdict.holders,
      });
    }
  }

  private async onBreach(v: VersionHealth, policy: HealthPolicy, why: string): Promise<void> {
    if (v.status === "quarantined") return;
    const evidence = v.allEvidence();
    const nodes = [...new Set(evidence.map((e) => e.node))].sort();
    v.status = "quarantined";
    if (!policy.rollback) {
      this.o.events.add("breach", "health", `${v.plugin} breached its health policy (rollback disabled): ${why}`, { filter: v.filter, sha256: v.sha256, nodes });
      return;
    }
    // The rollback target: the newest known-good version other than this one (this one leaves the chain).
    const good = this.o.versions.knownGood(v.filter).find((g) => g.key !== v.key && !this.o.versions.isQuarantined(v.filter, g.key));
    // In memory now; the state file follows. A failed write must not stop the rollback (issue 11).
    const written = this.o.versions.quarantine(v.filter, {
      sha256: v.sha256,
      key: v.key,
      reason: why,
      at: new Date(this.now()).toISOString(),
      nodes,
      signals: evidence.slice(-50).map((e) => ({ kind: e.kind, node: e.node, count: e.count, evidence: e.evidence, at: new Date(e.at).toISOString() })),
    });
    runInBackground(written, `saving the quarantine of ${v.plugin} to the state file`, this.bg);
    const target = good ? `rolled back to ${v.filter}@${good.sha256.slice(0, 8)}` : "quarantined, but there is no known-good version to roll back to";
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
