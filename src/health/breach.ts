/**
 * What the health monitor does with a verdict (verdict.ts) about a filter
 * version with new evidence: a breach quarantines the version and, if the
 * policy says so, rolls the filter back to its newest known-good version on
 * every node (one republish); a verdict held back (too few of the holders
 * complained) is logged and recorded once per number of complainers. Only
 * the leader decides (docs/REPLICAS.md); other replicas keep the evidence.
 */
import { type BackgroundReport, runInBackground } from "../background";
import type { HealthPolicy } from "../config/model";
import type { EventLog } from "../events/event-log";
import type { Logger } from "../logger";
import type { FilterVersions } from "./filter-versions";
import type { Leadership } from "./leadership";
import { versionId } from "./remote-evidence";
import { judge } from "./verdict";
import type { VersionHealth } from "./version-health";

export interface BreachOptions {
  readonly versions: FilterVersions;
  readonly events: EventLog;
  readonly logger: Logger;
  readonly leadership: Leadership;
  readonly bg: BackgroundReport;
  readonly now: () => number;
  /** Rebuild and publish (after a quarantine changed what may be served). */
  readonly republish: () => Promise<unknown>;
}

export class Breaches {
  /** Held-back verdicts already reported, per version id: the complainer count reported. */
  private readonly heldBack = new Map<string, number>();

  constructor(private readonly o: BreachOptions) {}

  /** The version is no longer tracked. */
  forget(id: string): void {
    this.heldBack.delete(id);
  }

  /** Judges a version that has new evidence: a breach quarantines it (and rolls back), a held-back verdict is said once. */
  judge(v: VersionHealth, policy: HealthPolicy): void {
    // Only the leader decides; the evidence stays here for when this replica leads.
    if (!this.o.leadership.isLeader()) return;
    const verdict = judge(v, policy, this.o.now());
    const id = versionId(v.filter, v.key);
    if (verdict.kind === "breach") {
      runInBackground(this.onBreach(v, policy, verdict.why), `rolling back ${v.plugin}`, this.o.bg);
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
      at: new Date(this.o.now()).toISOString(),
      nodes,
      signals: evidence.slice(-50).map((e) => ({ kind: e.kind, node: e.node, count: e.count, evidence: e.evidence, at: new Date(e.at).toISOString() })),
    });
    runInBackground(written, `saving the quarantine of ${v.plugin} to the state file`, this.o.bg);
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
