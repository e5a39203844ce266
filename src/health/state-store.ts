/**
 * The control plane's durable memory: each filter's last known-good
 * version and its quarantined versions (and later, rollout progress), in
 * `<state dir>/state.json`, replaced atomically on every change, so a
 * control plane restarted at any moment comes back serving the good version
 * and never re-pushes one it rolled back.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { WasmxdsError, errorMessage } from "../errors";
import { deepFreeze } from "../config/freeze";
import type { FilterSettings } from "../control/filter-version";
import { writeFileAtomic } from "../fs/atomic-write";

export interface QuarantineRecord {
  readonly sha256: string;
  /** The filter version: module sha256 plus a hash of its settings (control/filter-version.ts). */
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

const EMPTY: PersistedState = { version: 1, filters: {}, rollouts: {} };
export const STATE_FILE = "state.json";

export class StateStore {
  private state: PersistedState;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    /** Where the state lives; undefined keeps it in memory only (tests, `--state-dir off`). */
    readonly dir: string | undefined,
    initial: PersistedState,
  ) {
    this.state = initial;
  }

  static inMemory(initial: PersistedState = EMPTY): StateStore {
    return new StateStore(undefined, initial);
  }

  /** Loads `<dir>/state.json` (an absent file is an empty state). A file that is not valid state is an error naming it. */
  static async open(dir: string): Promise<StateStore> {
    await mkdir(dir, { recursive: true });
    const file = join(dir, STATE_FILE);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new StateStore(dir, EMPTY);
      throw new WasmxdsError("STATE_CORRUPT", `${file}: cannot read: ${errorMessage(err)}`, { cause: err });
    }
    return new StateStore(dir, parseState(text, file));
  }

  get(): PersistedState {
    return this.state;
  }

  filter(name: string): FilterState {
    return this.state.filters[name] ?? { quarantined: [] };
  }

  /** Applies a change and persists it; writes are serialised in call order. */
  update(change: (s: PersistedState) => PersistedState): Promise<void> {
    this.state = deepFreeze(change(this.state));
    const snapshot = this.state;
    const dir = this.dir;
    const write = this.writing.then(async () => {
      if (dir) await writeFileAtomic(join(dir, STATE_FILE), `${JSON.stringify(snapshot, null, 2)}\n`);
    });
    // One failed write must not stop later ones; the caller sees its own failure.
    this.writing = write.catch(() => {});
    return write;
  }

  /** Resolves when every write so far is on disk (or failed). */
  flush(): Promise<void> {
    return this.writing;
  }

  /** Replaces one filter's state. */
  updateFilter(name: string, change: (f: FilterState) => FilterState): Promise<void> {
    return this.update((s) => ({ ...s, filters: { ...s.filters, [name]: change(s.filters[name] ?? { quarantined: [] }) } }));
  }
}

function parseState(text: string, file: string): PersistedState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new WasmxdsError("STATE_CORRUPT", `${file}: not valid JSON (${errorMessage(err)}); fix or remove it`);
  }
  const obj = raw as Partial<PersistedState> | null;
  if (obj?.version !== 1 || typeof obj.filters !== "object" || obj.filters === null) {
    throw new WasmxdsError("STATE_CORRUPT", `${file}: expected {"version": 1, "filters": {...}}; fix or remove it`);
  }
  for (const [name, f] of Object.entries(obj.filters)) {
    if (!Array.isArray(f?.quarantined)) throw new WasmxdsError("STATE_CORRUPT", `${file}: filters.${name}.quarantined: expected a list`);
    if (f.lastGood !== undefined && !/^[0-9a-f]{64}$/.test(f.lastGood.sha256)) {
      throw new WasmxdsError("STATE_CORRUPT", `${file}: filters.${name}.lastGood.sha256: expected 64 lowercase hex characters`);
    }
  }
  return deepFreeze({ version: 1, filters: obj.filters, rollouts: (obj.rollouts as Record<string, unknown> | undefined) ?? {} });
}
