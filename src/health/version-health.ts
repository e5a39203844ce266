/**
 * The evidence gathered about one filter version while it is served: the
 * nodes it was sent to, which of them ACKed it, NACKs and crash signals
 * with times. Pure bookkeeping, bounded (HealthLimits); the verdict
 * (verdict.ts) decides what it means against the filter's HealthPolicy.
 */
import type { HealthPolicy } from "../config/model";
import type { FilterSettings } from "../config/filter-version";
import type { HealthSignal } from "./signal";

export type VersionStatus = "probation" | "good" | "quarantined";

export interface Evidence {
  readonly node: string;
  readonly kind: string;
  readonly count: number;
  readonly evidence: string;
  readonly at: number;
}

/** What the monitor keeps per version and per node (docs/RELIABILITY.md, "State, rollback and health signals"). */
export interface HealthLimits {
  /** Versions tracked per filter; the oldest not being served are forgotten first. */
  readonly versionsPerFilter: number;
  /** NACK and crash evidence entries kept per version (each list); older crash entries are merged, never lost from the counts. */
  readonly evidencePerVersion: number;
  /** Nodes remembered per version (ACKed, complained); the oldest are forgotten first. */
  readonly nodesPerVersion: number;
}

export const DEFAULT_HEALTH_LIMITS: HealthLimits = Object.freeze({ versionsPerFilter: 16, evidencePerVersion: 256, nodesPerVersion: 10_000 });

interface Complaint {
  nacks: number;
  lastCrashAt: number;
}

export class VersionHealth {
  status: VersionStatus = "probation";
  readonly acked = new Set<string>();
  /** Connected nodes this version was sent to (kept current by the monitor): only they may complain. */
  readonly holders = new Set<string>();
  /** The newest NACKs (at most evidencePerVersion); nackCount counts them all. */
  readonly nacks: Evidence[] = [];
  /** Crash signals, oldest first; past evidencePerVersion the oldest two are merged into one. */
  readonly crashes: Evidence[] = [];
  nackCount = 0;
  private readonly complaints = new Map<string, Complaint>();

  constructor(
    readonly filter: string,
    /** The filter version (module sha256 and settings hash). */
    readonly key: string,
    readonly sha256: string,
    readonly settings: FilterSettings,
    readonly servedSince: number,
    private readonly limits: HealthLimits = DEFAULT_HEALTH_LIMITS,
  ) {}

  get plugin(): string {
    return `${this.filter}@${this.sha256.slice(0, 8)}`;
  }

  record(signal: HealthSignal): void {
    const e: Evidence = { node: signal.nodeId, kind: signal.kind, count: signal.count, evidence: signal.evidence, at: signal.at };
    const c = this.complaints.get(signal.nodeId) ?? { nacks: 0, lastCrashAt: Number.NEGATIVE_INFINITY };
    this.complaints.delete(signal.nodeId);
    this.complaints.set(signal.nodeId, c);
    bound(this.complaints, this.limits.nodesPerVersion);
    if (signal.kind === "nack") {
      this.nackCount++;
      c.nacks++;
      // An earlier ACK from this node proves nothing about what it runs now.
      this.acked.delete(signal.nodeId);
      this.nacks.push(e);
      if (this.nacks.length > this.limits.evidencePerVersion) this.nacks.shift();
    } else {
      c.lastCrashAt = Math.max(c.lastCrashAt, signal.at);
      this.crashes.push(e);
      if (this.crashes.length > this.limits.evidencePerVersion) {
        // Merge rather than drop, so the counts in a window never shrink (the merged entry takes the later time).
        const [a, b] = this.crashes.splice(0, 2) as [Evidence, Evidence];
        this.crashes.unshift({ ...b, count: a.count + b.count });
      }
    }
  }

  /**
   * An ACK of a response carrying this version. From a node that NACKed the
   * version before it is no evidence: Envoy skips an ECDS config identical
   * to the last one it received, even a NACKed one, and ACKs while the old
   * filter keeps serving (docs/ENVOY.md, "ECDS hash skip"). Such an ACK never
   * counts towards known-good, canary gates or promotion; false when ignored.
   */
  ack(nodeId: string): boolean {
    if ((this.complaints.get(nodeId)?.nacks ?? 0) > 0) return false;
    this.acked.add(nodeId);
    bound(this.acked, this.limits.nodesPerVersion);
    return true;
  }

  /** Crash signals counted within the window ending at `now`. */
  crashesInWindow(windowMs: number, now: number): number {
    return this.crashes.filter((c) => c.at > now - windowMs).reduce((n, c) => n + c.count, 0);
  }

  /** Nodes that NACKed the version, or reported a crash within the window. */
  complainers(windowMs: number, now: number): string[] {
    return [...this.complaints].filter(([, c]) => c.nacks > 0 || c.lastCrashAt > now - windowMs).map(([node]) => node);
  }

  /** Nodes that NACKed it. */
  nackers(): string[] {
    return [...this.complaints].filter(([, c]) => c.nacks > 0).map(([node]) => node);
  }

  /** Served long enough, ACKed somewhere, never NACKed and no more crashes than tolerated. */
  provenGood(policy: HealthPolicy, now: number): boolean {
    return (
      this.status === "probation" &&
      this.acked.size > 0 &&
      this.nackCount === 0 &&
      now - this.servedSince >= policy.goodAfterMs &&
      this.crashesInWindow(policy.windowMs, now) <= policy.maxCrashes
    );
  }

  /** Nodes and evidence for the quarantine record. */
  allEvidence(): Evidence[] {
    return [...this.nacks, ...this.crashes].sort((a, b) => a.at - b.at);
  }
}

/** Drops the oldest entries of a Set or Map (insertion order) beyond `max`. */
function bound(c: { readonly size: number; keys(): IterableIterator<string>; delete(k: string): boolean }, max: number): void {
  while (c.size > max) c.delete(c.keys().next().value as string);
}
