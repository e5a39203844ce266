/**
 * Which version of each filter may be served: the last known-good versions
 * (module and settings, newest first as a chain) and the quarantined ones,
 * kept in the persisted state. The publisher asks `select` for every
 * filter; the health monitor quarantines and promotes. Versions are
 * identified by their key (module sha256 plus settings hash,
 * config/filter-version.ts).
 *
 * Changes apply in memory at once and return the write of the state file:
 * a rollback must not wait for (or fail with) the disk, so callers that do
 * not wait hand that promise to runInBackground (src/background.ts).
 */
import type { ServedFilter, FilterSettings } from "../config/filter-version";
import type { Logger } from "../logger";
import type { KnownGood, QuarantineRecord, StateStore } from "./state-store";

export type Selection =
  | { readonly kind: "candidate" }
  /** The newest known-good version that is not quarantined and whose module the store holds. */
  | { readonly kind: "fallback"; readonly good: KnownGood; readonly missing: readonly KnownGood[] }
  /** No usable known-good version: keep what the filter served before. */
  | { readonly kind: "previous"; readonly served: ServedFilter; readonly missing: readonly KnownGood[] }
  /** Nothing else to serve: the quarantined candidate itself (said loudly by the caller). */
  | { readonly kind: "quarantined-only"; readonly missing: readonly KnownGood[] };

export interface SelectContext {
  /** Whether a version can be served: its module is in the store, or it needs none (default: every version). */
  readonly has?: (sha256: string, settings: Pick<FilterSettings, "hostPath">) => boolean;
  /** What the filter serves now, if anything. */
  readonly previous?: ServedFilter;
}

export class FilterVersions {
  constructor(
    private readonly state: StateStore,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
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

  /** The known-good chain of a filter, newest first. */
  knownGood(filter: string): KnownGood[] {
    return chain(this.lastGood(filter));
  }

  /**
   * What to serve when the folder asks for `candidate`: the candidate unless
   * it is quarantined; then the newest known-good version the store still
   * holds; then what the filter served before; with nothing else, the
   * candidate anyway. Never refuses: a quarantine must not block other
   * edits or a start (issue 11).
   */
  select(candidate: ServedFilter, context: SelectContext = {}): Selection {
    const name = candidate.filter.name;
    if (!this.isQuarantined(name, candidate.key)) return { kind: "candidate" };
    const has = context.has ?? (() => true);
    const missing: KnownGood[] = [];
    for (const good of this.knownGood(name)) {
      if (good.key === candidate.key || this.isQuarantined(name, good.key)) continue;
      if (has(good.sha256, good.settings)) return { kind: "fallback", good, missing };
      missing.push(good);
    }
    const previous = context.previous;
    if (previous && previous.key !== candidate.key && !this.isQuarantined(name, previous.key) && has(previous.module.sha256, previous.filter)) {
      return { kind: "previous", served: previous, missing };
    }
    return { kind: "quarantined-only", missing };
  }

  /** Quarantines a version (in memory now); resolves when the state file has it. */
  quarantine(filter: string, record: QuarantineRecord): Promise<void> {
    if (this.isQuarantined(filter, record.key)) return Promise.resolve();
    const write = this.state.updateFilter(filter, (f) => {
      // A quarantined version can never stay known-good: fall back to the one before it.
      const lastGood = withoutKey(f.lastGood, record.key);
      return { ...(lastGood && { lastGood }), quarantined: [...f.quarantined, record] };
    });
    this.logger.warn("version quarantined", { filter, version: record.sha256.slice(0, 8), reason: record.reason });
    return write;
  }

  /** Makes a version the last known-good one (in memory now, if it changed anything); `written` resolves when the state file has it. */
  markGood(filter: string, good: Omit<KnownGood, "since" | "previous">): { changed: boolean; written: Promise<void> } {
    if (this.lastGood(filter)?.key === good.key || this.isQuarantined(filter, good.key)) return { changed: false, written: Promise.resolve() };
    const written = this.state.updateFilter(filter, (f) => ({
      ...f,
      lastGood: {
        sha256: good.sha256,
        key: good.key,
        settings: good.settings,
        since: new Date(this.now()).toISOString(),
        ...(f.lastGood && { previous: trim(withoutKey(f.lastGood, good.key), MAX_PREVIOUS) }),
      },
    }));
    this.logger.info("version is known-good", { filter, version: good.sha256.slice(0, 8) });
    return { changed: true, written };
  }

  /** Clears quarantined versions whose module sha256 starts with `sha256` (all of the filter's without it); returns their keys. */
  async clearQuarantine(filter: string, sha256?: string): Promise<string[]> {
    const matches = (q: QuarantineRecord) => !sha256 || q.sha256.startsWith(sha256);
    const cleared = this.state.filter(filter).quarantined.filter(matches).map((q) => q.key);
    if (cleared.length === 0) return [];
    await this.state.updateFilter(filter, (f) => ({ ...f, quarantined: f.quarantined.filter((q) => !matches(q)) }));
    return cleared;
  }

  /**
   * Every module the state refers to, with where: each entry of every
   * known-good chain (a rollback may need any of them) and the quarantined
   * versions (status shows them, and clearing a quarantine serves the
   * version again). The module store keeps them all (pinned).
   */
  references(): StateReference[] {
    return Object.entries(this.state.get().filters).flatMap(([filter, f]) => [
      ...chain(f.lastGood).map((g, i) => ({ filter, path: `filters.${filter}.lastGood${".previous".repeat(i)}`, sha256: g.sha256 })),
      ...f.quarantined.map((q, i) => ({ filter, path: `filters.${filter}.quarantined[${i}]`, sha256: q.sha256 })),
    ]);
  }

  /** Module sha256s the module store must keep. */
  pinned(): string[] {
    return this.references().map((r) => r.sha256);
  }
}

/** A module the persisted state names, and the field that names it. */
export interface StateReference {
  readonly filter: string;
  readonly path: string;
  readonly sha256: string;
}

/** Known-good versions kept behind the newest one (state.json stays small; each is a rollback target). */
export const MAX_PREVIOUS = 4;

function chain(g: KnownGood | undefined): KnownGood[] {
  const out: KnownGood[] = [];
  for (let at = g; at; at = at.previous) out.push(at);
  return out;
}

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
