/**
 * Which version of each filter may be served: the last known-good version
 * (module and settings) and the quarantined ones, kept in the persisted
 * state. The publisher asks `select` for every filter; the health monitor
 * quarantines and promotes. Versions are identified by their key (module
 * sha256 plus settings hash, control/filter-version.ts).
 */
import type { ServedFilter } from "../control/publisher";
import type { Logger } from "../logger";
import type { KnownGood, QuarantineRecord, StateStore } from "./state-store";

export type Selection =
  | { readonly kind: "candidate" }
  | { readonly kind: "fallback"; readonly good: KnownGood }
  | { readonly kind: "blocked" };

export class FilterVersions {
  constructor(
    private readonly state: StateStore,
    private readonly logger: Logger,
  ) {}

  isQuarantined(filter: string, key: string): boolean {
    return this.state.filter(filter).quarantined.some((q) => q.key === key);
  }

  quarantined(filter: string): readonly QuarantineRecord[] {
    return this.state.filter(filter).quarantined;
  }

  lastGood(filter: string): KnownGood | undefined {
    return this.state.filter(filter).lastGood;
  }

  /**
   * What to serve when the folder asks for `candidate`: the candidate unless
   * it is quarantined; then the last known-good version; with none, nothing.
   */
  select(candidate: ServedFilter): Selection {
    const name = candidate.filter.name;
    if (!this.isQuarantined(name, candidate.key)) return { kind: "candidate" };
    const good = this.lastGood(name);
    return good && good.key !== candidate.key ? { kind: "fallback", good } : { kind: "blocked" };
  }

  async quarantine(filter: string, record: QuarantineRecord): Promise<void> {
    if (this.isQuarantined(filter, record.key)) return;
    await this.state.updateFilter(filter, (f) => {
      // A quarantined version can never stay known-good: fall back to the one before it.
      const lastGood = withoutKey(f.lastGood, record.key);
      return { ...(lastGood && { lastGood }), quarantined: [...f.quarantined, record] };
    });
    this.logger.warn("version quarantined", { filter, version: record.sha256.slice(0, 8), reason: record.reason });
  }

  async markGood(filter: string, good: Omit<KnownGood, "since">): Promise<boolean> {
    if (this.lastGood(filter)?.key === good.key || this.isQuarantined(filter, good.key)) return false;
    await this.state.updateFilter(filter, (f) => ({
      ...f,
      lastGood: { ...good, since: new Date().toISOString(), ...(f.lastGood && { previous: trim(withoutKey(f.lastGood, good.key), MAX_PREVIOUS) }) },
    }));
    this.logger.info("version is known-good", { filter, version: good.sha256.slice(0, 8) });
    return true;
  }

  /** Clears quarantined versions whose module sha256 starts with `sha256` (all of the filter's without it); returns their keys. */
  async clearQuarantine(filter: string, sha256?: string): Promise<string[]> {
    const matches = (q: QuarantineRecord) => !sha256 || q.sha256.startsWith(sha256);
    const cleared = this.state.filter(filter).quarantined.filter(matches).map((q) => q.key);
    if (cleared.length === 0) return [];
    await this.state.updateFilter(filter, (f) => ({ ...f, quarantined: f.quarantined.filter((q) => !matches(q)) }));
    return cleared;
  }

  /** Every module sha256 that must stay in the module store (known-good versions). */
  pinned(): string[] {
    return Object.values(this.state.get().filters).flatMap((f) => (f.lastGood ? [f.lastGood.sha256] : []));
  }
}

const MAX_PREVIOUS = 4;

/** The chain of known-good versions without `key`. */
function withoutKey(g: KnownGood | undefined, key: string): KnownGood | undefined {
  if (!g) return undefined;
  if (g.key === key) return withoutKey(g.previous, key);
  const previous = withoutKey(g.previous, key);
  const { previous: _, ...rest } = g;
  return previous ? { ...rest, previous } : rest;
}

function trim(g: KnownGood | undefined, depth: number): KnownGood | undefined {
  if (!g) return undefined;
  if (depth <= 1) {
    const { previous: _, ...rest } = g;
    return rest;
  }
  const previous = trim(g.previous, depth - 1);
  const { previous: _p, ...rest } = g;
  return previous ? { ...rest, previous } : rest;
}
