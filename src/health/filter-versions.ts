/**
 * Which version of each filter may be served: the last known-good version
 * and the quarantined ones, kept in the persisted state. The publisher asks
 * `select` for every filter; the health monitor quarantines and promotes.
 */
import type { Logger } from "../logger";
import type { QuarantineRecord, StateStore } from "./state-store";

export type Selection =
  | { readonly kind: "candidate"; readonly sha256: string }
  | { readonly kind: "fallback"; readonly sha256: string; readonly quarantined: string }
  | { readonly kind: "blocked"; readonly quarantined: string };

export class FilterVersions {
  constructor(
    private readonly state: StateStore,
    private readonly logger: Logger,
  ) {}

  isQuarantined(filter: string, sha256: string): boolean {
    return this.state.filter(filter).quarantined.some((q) => q.sha256 === sha256);
  }

  quarantined(filter: string): readonly QuarantineRecord[] {
    return this.state.filter(filter).quarantined;
  }

  lastGoodRecord(filter: string): { readonly sha256: string; readonly since: string } | undefined {
    return this.state.filter(filter).lastGood;
  }

  lastGood(filter: string): string | undefined {
    return this.state.filter(filter).lastGood?.sha256;
  }

  /**
   * What to serve when the folder asks for `candidate`: the candidate unless
   * it is quarantined; then the last known-good version; with none, nothing.
   */
  select(filter: string, candidate: string): Selection {
    if (!this.isQuarantined(filter, candidate)) return { kind: "candidate", sha256: candidate };
    const good = this.lastGood(filter);
    return good && good !== candidate ? { kind: "fallback", sha256: good, quarantined: candidate } : { kind: "blocked", quarantined: candidate };
  }

  async quarantine(filter: string, record: QuarantineRecord): Promise<void> {
    if (this.isQuarantined(filter, record.sha256)) return;
    await this.state.updateFilter(filter, (f) => ({
      ...f,
      // A quarantined version can never stay the known-good one.
      ...(f.lastGood?.sha256 === record.sha256 ? { lastGood: undefined } : {}),
      quarantined: [...f.quarantined, record],
    }));
    this.logger.warn("version quarantined", { filter, version: record.sha256.slice(0, 8), reason: record.reason });
  }

  async markGood(filter: string, sha256: string): Promise<boolean> {
    if (this.lastGood(filter) === sha256 || this.isQuarantined(filter, sha256)) return false;
    await this.state.updateFilter(filter, (f) => ({ ...f, lastGood: { sha256, since: new Date().toISOString() } }));
    this.logger.info("version is known-good", { filter, version: sha256.slice(0, 8) });
    return true;
  }

  /** Clears one quarantined version (by sha256 or its 8-hex prefix) or all of a filter's; returns the cleared ones. */
  async clearQuarantine(filter: string, sha256?: string): Promise<string[]> {
    const matches = (q: QuarantineRecord) => !sha256 || q.sha256 === sha256 || q.sha256.startsWith(sha256);
    const cleared = this.state.filter(filter).quarantined.filter(matches).map((q) => q.sha256);
    if (cleared.length === 0) return [];
    await this.state.updateFilter(filter, (f) => ({ ...f, quarantined: f.quarantined.filter((q) => !matches(q)) }));
    return cleared;
  }

  /** Every sha256 that must stay in the module store (known-good versions). */
  pinned(): string[] {
    return Object.values(this.state.get().filters).flatMap((f) => (f.lastGood ? [f.lastGood.sha256] : []));
  }
}
