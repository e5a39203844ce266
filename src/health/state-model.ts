/**
 * The shape of the persisted health state (state.json): known-good versions,
 * quarantines, and the rollouts' opaque part. Its own file so that the
 * store (state-store.ts) and the schema that checks a file on load
 * (state-schema.ts) both use it without importing each other.
 */
import type { FilterSettings } from "../config/filter-version";

export interface QuarantineRecord {
  readonly sha256: string;
  /** The filter version: module sha256 plus a hash of its settings (config/filter-version.ts, vocabulary/version-key.ts). */
  readonly key: string;
  readonly reason: string;
  readonly at: string;
  readonly nodes: readonly string[];
  readonly signals: ReadonlyArray<{ readonly kind: string; readonly node: string; readonly count: number; readonly evidence: string; readonly at: string }>;
}

export interface KnownGood {
  readonly sha256: string;
  readonly key: string;
  /** The settings the module was good with; a rollback restores them too. */
  readonly settings: FilterSettings;
  readonly since: string;
  /** The known-good version before this one, to fall back to if this one is quarantined later (a few kept). */
  readonly previous?: KnownGood;
}

export interface FilterState {
  readonly lastGood?: KnownGood;
  readonly quarantined: readonly QuarantineRecord[];
}

export interface PersistedState {
  readonly version: 1;
  readonly filters: Readonly<Record<string, FilterState>>;
  /** Owned by the rollout controller; opaque here. */
  readonly rollouts: Readonly<Record<string, unknown>>;
}
