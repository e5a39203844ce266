/**
 * The evidence gathered about one filter version while it is served: which
 * nodes ACKed it, NACKs and crash signals with times. Pure bookkeeping; the
 * monitor decides what it means against the filter's HealthPolicy.
 */
import type { HealthPolicy } from "../config/model";
import type { FilterSettings } from "../control/filter-version";
import type { HealthSignal } from "./signal";

export type VersionStatus = "probation" | "good" | "quarantined";

export interface Evidence {
  readonly node: string;
  readonly kind: string;
  readonly count: number;
  readonly evidence: string;
  readonly at: number;
}

export class VersionHealth {
  status: VersionStatus = "probation";
  readonly acked = new Set<string>();
  readonly nacks: Evidence[] = [];
  readonly crashes: Evidence[] = [];

  constructor(
    readonly filter: string,
    /** The filter version (module sha256 and settings hash). */
    readonly key: string,
    readonly sha256: string,
    readonly settings: FilterSettings,
    readonly servedSince: number,
  ) {}

  get plugin(): string {
    return `${this.filter}@${this.sha256.slice(0, 8)}`;
  }

  record(signal: HealthSignal): void {
    const e: Evidence = { node: signal.nodeId, kind: signal.kind, count: signal.count, evidence: signal.evidence, at: signal.at };
    if (signal.kind === "nack") this.nacks.push(e);
    else this.crashes.push(e);
  }

  /** Crash signals counted within the policy window ending at `now`. */
  crashesInWindow(policy: HealthPolicy, now: number): number {
    return this.crashes.filter((c) => c.at > now - policy.windowMs).reduce((n, c) => n + c.count, 0);
  }

  /** Why the version breaches its policy, or undefined if it does not. */
  breach(policy: HealthPolicy, now: number): string | undefined {
    if (this.nacks.length > policy.maxNacks) {
      const nodes = [...new Set(this.nacks.map((n) => n.node))];
      return `${this.nacks.length} NACK(s) from ${nodes.join(", ")} (tolerated: ${policy.maxNacks}): ${this.nacks[0]?.evidence ?? ""}`;
    }
    const crashes = this.crashesInWindow(policy, now);
    if (crashes > policy.maxCrashes) {
      const recent = this.crashes.filter((c) => c.at > now - policy.windowMs);
      const kinds = [...new Set(recent.map((c) => c.kind))].join(", ");
      const nodes = [...new Set(recent.map((c) => c.node))];
      return `${crashes} crash signal(s) (${kinds}) from ${nodes.join(", ")} within ${policy.windowMs / 1000}s (tolerated: ${policy.maxCrashes})`;
    }
    return undefined;
  }

  /** Served long enough, ACKed somewhere and without a breach. */
  provenGood(policy: HealthPolicy, now: number): boolean {
    return (
      this.status === "probation" &&
      this.acked.size > 0 &&
      this.nacks.length === 0 &&
      now - this.servedSince >= policy.goodAfterMs &&
      !this.breach(policy, now)
    );
  }

  /** Nodes and evidence for the quarantine record. */
  allEvidence(): Evidence[] {
    return [...this.nacks, ...this.crashes].sort((a, b) => a.at - b.at);
  }
}
