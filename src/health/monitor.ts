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
import { type ServedFilter, settingsOf } from "../config/filter-version";
import { TYPE_URLS } from "../vocabulary/type-urls";
import { type Clock, type TimerHandle, every, realClock } from "../time/clock";
import type { NackRecord, XdsEvent } from "../xds/events";
import { Attribution, pluginsNamedIn } from "./attribution";
import { Breaches } from "./breach";
import { type Leadership, alwaysLeader } from "./leadership";
import { type Carried, NodeBook } from "./node-book";
import type { NodeEvidence } from "./node-evidence";
import { RemoteEvidence, versionId } from "./remote-evidence";
import type { HealthSignal } from "./signal";
import type { MonitorOptions } from "./monitor-options";
import { DEFAULT_HEALTH_LIMITS, type HealthLimits, VersionHealth } from "./version-health";

export type { MonitorOptions, NodeVersions } from "./monitor-options";

/** What a push that carries no filter version carried (most LDS pushes when filters ride in ECDS). */
const NOTHING: readonly Carried[] = Object.freeze([]);

export class HealthMonitor {
  private readonly tracked = new Map<string, VersionHealth>();
  /** Per node: what each push carried (so an ACK proves exactly those versions), what it was sent, what it runs since when. */
  private readonly nodes = new NodeBook();
  private readonly attribution: Attribution;
  private readonly breaches: Breaches;
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
    this.breaches = new Breaches({ versions: o.versions, events: o.events, logger: o.logger, leadership: this.leadership, bg: this.bg, now: this.now, republish: o.republish });
    this.attribution = new Attribution({ tracked: this.tracked, nodeVersions: o.nodeVersions, listenerFilters: o.listenerFilters, nodes: this.nodes });
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
    return this.nodes.size;
  }

  onXds(e: XdsEvent): void {
    const carriesFilters = (e.kind === "push" || e.kind === "ack") && (e.typeUrl === TYPE_URLS.extensionConfig || e.typeUrl === TYPE_URLS.listener);
    if (e.kind === "push" && carriesFilters) {
      this.rememberPush(e.node.id, e.typeUrl, e.version, e.resourceNames);
    } else if (e.kind === "ack" && carriesFilters) {
      const carried = this.nodes.carriedBy(e.node.id, e.typeUrl, e.version);
      if (carried) this.onAck(e.node.id, e.typeUrl, carried);
    } else if (e.kind === "disconnect") {
      // A node may hold several streams: forget it only when the last one is gone.
      if (!this.o.connected(e.node.id)) this.forgetNode(e.node.id);
    } else if (e.kind === "nack") {
      if (!this.cacheMiss(e.nack)) this.nackSignal(e.nack);
    }
  }

  /** An ACK of a push that carried these versions: the node runs them, and (unless it NACKed them before) it is evidence. */
  private onAck(nodeId: string, typeUrl: string, carried: readonly Carried[]): void {
    const now = this.now();
    for (const { filter, key, attempt, id } of carried) {
      this.nodes.markRunning(nodeId, filter, key, now);
      const v = this.tracked.get(id);
      const remote = this.isRemoteEcds(typeUrl, filter, key);
      // Envoy's ECDS hash skip ACKs a re-sent NACKed config without running it (VersionHealth.ack, cache-miss.ts).
      const skipped = remote && this.o.cacheMisses?.acked(nodeId, filter, key, attempt) === "skip";
      if (v && (skipped || !v.ack(nodeId))) {
        this.ackAfterNack++;
        this.o.logger.debug("ACK not counted: the node NACKed this version before", { node: nodeId, plugin: v.plugin });
      } else if (v) this.o.evidence?.acked(nodeId, filter, key);
    }
  }

  /** A NACK as a health signal (also called for a NACK of remote code that turned out not to be a cache miss). */
  nackSignal(nack: NackRecord): void {
    const signal: HealthSignal = { nodeId: nack.nodeId, kind: "nack", count: 1, evidence: nack.message, source: "xds", at: nack.at };
    const named = pluginsNamedIn(nack.message);
    const targets = named.length > 0 ? named.flatMap((p) => this.attribution.byPlugin(p)) : this.attribution.byResources(nack.nodeId, nack.typeUrl, nack.resourceNames);
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
    const carried = (this.nodes.carriedBy(nack.nodeId, nack.typeUrl, nack.rejectedVersion) ?? []).filter((c) => this.isRemoteEcds(nack.typeUrl, c.filter, c.key));
    if (carried.length === 0) return false;
    const named = pluginsNamedIn(nack.message);
    const plugin = (c: Carried) => `${c.filter}@${c.key.slice(0, 8)}`;
    const suspects = named.length > 0 ? carried.filter((c) => named.includes(plugin(c))) : carried;
    if (suspects.length === 0 || (named.length > 0 && suspects.length < named.length)) return false;
    return suspects.map((c) => misses.nacked(nack, c.filter, c.key, c.attempt)).every(Boolean);
  }

  private isRemoteEcds(typeUrl: string, filter: string, key: string): boolean {
    return typeUrl === TYPE_URLS.extensionConfig && this.o.remoteOverEcds?.(filter, key) === true;
  }

  onSignal(signal: HealthSignal): void {
    const a = this.attribution;
    if (signal.plugin) {
      this.attribute(signal, a.byPlugin(signal.plugin));
      return;
    }
    if (signal.kind === "ecds_config_fail" && signal.filter) {
      this.attribute(signal, a.byResources(signal.nodeId, TYPE_URLS.extensionConfig, [signal.filter]));
      return;
    }
    if (signal.kind === "vm_created" && this.now() - (this.nodes.lastPush(signal.nodeId) ?? 0) < (this.o.pushGraceMs ?? 10_000)) return;
    const onListener = signal.listener !== undefined ? a.byListener(signal.nodeId, signal.listener) : undefined;
    // No plugin named and no listener: suspect the versions on trial on that node.
    this.attribute(signal, a.ranWhen(signal, onListener ?? a.onTrial(signal.nodeId)));
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
      if (v.status !== "quarantined" && (v.nackCount > 0 || v.crashes.length > 0)) this.breaches.judge(v, policy);
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
    // Runs for every push of LDS or ECDS to every node: one lookup of the node's versions, interned records, no array
    // for a push that carries one version (node-book.ts).
    const ecds = typeUrl === TYPE_URLS.extensionConfig;
    const misses = this.o.cacheMisses;
    let first: Carried | undefined;
    let more: Carried[] | undefined;
    for (const [filter, key] of this.o.nodeVersions(nodeId)) {
      const discovery = this.o.discoveryOf?.(filter) ?? "ecds";
      if (ecds ? discovery !== "ecds" || !names.includes(filter) : discovery !== "listener") continue;
      // Remote code over ECDS: the cache-miss tracker notes the attempt sent (and says which it is).
      const attempt = (this.isRemoteEcds(typeUrl, filter, key) ? misses?.sent(nodeId, filter, key) : misses?.attemptFor(nodeId, filter, key)) ?? 0;
      const c = this.nodes.carried(filter, key, attempt);
      if (!first) first = c;
      else {
        more ??= [first];
        more.push(c);
      }
    }
    const carried = more ?? first?.alone ?? NOTHING;
    const sent = this.nodes.pushed(nodeId, typeUrl, version, carried, this.now());
    for (const c of carried) {
      const v = this.tracked.get(c.id);
      if (!v) continue;
      v.holders.add(nodeId);
      this.o.evidence?.holds(nodeId, c.filter, c.key);
      sent.add(c.id);
    }
  }

  private forgetNode(nodeId: string): void {
    for (const id of this.nodes.forget(nodeId) ?? []) this.tracked.get(id)?.holders.delete(nodeId);
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
    if (policy) this.breaches.judge(v, policy);
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
        this.nodes.unsend(id, this.tracked.get(id)?.holders ?? []);
        this.tracked.delete(id);
        this.breaches.forget(id);
        excess--;
      }
    }
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
      if (policy) this.breaches.judge(v, policy);
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
}
