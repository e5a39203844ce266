/**
 * The control plane's durable memory: each filter's last known-good
 * version, its quarantined versions and rollout progress. `StateStore` is
 * what the health monitor, the filter versions and the rollout controller
 * read and change; where it lives is the implementation's business: here a
 * folder (`<state dir>/state.json`, replaced atomically on every change),
 * so a control plane restarted at any moment comes back serving the good
 * version and never re-pushes one it rolled back; with replicas, etcd
 * (cluster/etcd-state-store.ts, docs/REPLICAS.md).
 */
import { copyFile, mkdir, readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { WasmxdsError, errorMessage } from "../errors";
import { deepFreeze } from "../config/freeze";
import { writeFileAtomic } from "../fs/atomic-write";
import { type Logger, silentLogger } from "../logger";
import { salvageState } from "./state-schema";
import type { FilterState, PersistedState } from "./state-model";

export type { FilterState, KnownGood, PersistedState, QuarantineRecord } from "./state-model";

export const EMPTY_STATE: PersistedState = { version: 1, filters: {}, rollouts: {} };
export const STATE_FILE = "state.json";
/** Temporary files of writeFileAtomic (`.state.json.<pid>.<random>.tmp`), left behind by a kill -9 mid-write. */
const TEMP_FILE = /^\.state\.json\.[0-9]+\.[0-9a-f]+\.tmp$/;

export interface OpenStateOptions {
  readonly logger?: Logger;
  /** Clock for the name of a kept corrupt copy. */
  readonly now?: () => number;
}

/**
 * The persisted state, read synchronously from memory; changes apply in
 * memory at once (a rollback must not wait for the disk or the network)
 * and the returned promise says whether they were stored.
 */
export interface StateStore {
  /** Where the state lives, for messages (a file path, or etcd and a prefix); undefined in memory. */
  readonly file: string | undefined;
  /** What was wrong with the stored state at open and how it was repaired (empty when clean). */
  readonly repairs: readonly string[];
  get(): PersistedState;
  filter(name: string): FilterState;
  /** Applies a change in memory now and stores it; rejects when this write failed (or was refused). */
  update(change: (s: PersistedState) => PersistedState): Promise<void>;
  /** Replaces one filter's state. */
  updateFilter(name: string, change: (f: FilterState) => FilterState): Promise<void>;
  /** Resolves when every write so far is stored (or failed). */
  flush(): Promise<void>;
}

/** The local implementations: `StateStore.open(dir)` (a folder) and `StateStore.inMemory()`. */
export const StateStore = {
  open: (dir: string, options: OpenStateOptions = {}): Promise<StateStore> => FolderStateStore.open(dir, options),
  inMemory: (initial: PersistedState = EMPTY_STATE): StateStore => FolderStateStore.inMemory(initial),
};

export class FolderStateStore implements StateStore {
  private state: PersistedState;
  private writing: Promise<void> = Promise.resolve();
  /** What was wrong with the file at open and how it was repaired (empty for a clean file); main records them as events. */
  readonly repairs: readonly string[];

  private constructor(
    /** Where the state lives; undefined keeps it in memory only (tests, `--state-dir off`). */
    readonly dir: string | undefined,
    initial: PersistedState,
    repairs: readonly string[] = [],
  ) {
    this.state = deepFreeze(initial);
    this.repairs = repairs;
  }

  static inMemory(initial: PersistedState = EMPTY_STATE): FolderStateStore {
    return new FolderStateStore(undefined, initial);
  }

  /** The state file's path (undefined in memory). */
  get file(): string | undefined {
    return this.dir === undefined ? undefined : join(this.dir, STATE_FILE);
  }

  /**
   * Loads `<dir>/state.json` (an absent file is an empty state) and removes
   * temporary files of interrupted writes. A file that is wrong in part is
   * repaired: the original is kept as `state.json.corrupt-<time>`, the valid
   * parts are kept, each dropped part is a warning naming the file and the
   * field path (see `repairs`), and the repaired state is written back.
   * Refuses, with a message saying what to do, only what repairing would
   * make worse: an unreadable file, or one written by a newer wasmxds.
   */
  static async open(dir: string, options: OpenStateOptions = {}): Promise<FolderStateStore> {
    const logger = options.logger ?? silentLogger;
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (!TEMP_FILE.test(name)) continue;
      logger.info("removing an interrupted state write", { file: join(dir, name) });
      await rm(join(dir, name), { force: true });
    }
    const file = join(dir, STATE_FILE);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new FolderStateStore(dir, EMPTY_STATE);
      throw new WasmxdsError("STATE_CORRUPT", `${file}: cannot read the state file: ${errorMessage(err)}; fix its permissions or move it away`, { cause: err });
    }
    let raw: unknown;
    const problems: string[] = [];
    try {
      raw = JSON.parse(text);
    } catch (err) {
      problems.push(`${file}: not valid JSON (${errorMessage(err)}) (starting from an empty state: known-good versions, quarantines and rollouts are lost)`);
    }
    const version = (raw as { version?: unknown } | null)?.version;
    if (typeof version === "number" && version > 1) {
      throw new WasmxdsError("STATE_CORRUPT", `${file}: version: ${version} was written by a newer wasmxds (this one reads version 1); run the newer wasmxds, or move the file away to start from an empty state`);
    }
    if (problems.length === 0 && version !== 1) problems.push(`${file}: version: expected 1, got ${JSON.stringify(version) ?? "nothing"} (reading what is valid)`);
    const read = problems.length > 0 && raw === undefined ? { state: EMPTY_STATE, problems: [] } : salvageState(raw, file);
    problems.push(...read.problems);
    if (problems.length === 0) return new FolderStateStore(dir, read.state);
    const copy = `${file}.corrupt-${new Date((options.now ?? Date.now)()).toISOString().replace(/[:.]/g, "-")}`;
    await copyFile(file, copy);
    const repairs = [...problems, `${file}: the original is kept as ${copy}; wasmxds starts from what could be read`];
    for (const p of repairs) logger.warn(`state file repaired: ${p}`);
    const store = new FolderStateStore(dir, read.state, repairs);
    await store.update((s) => s);
    return store;
  }

  get(): PersistedState {
    return this.state;
  }

  filter(name: string): FilterState {
    return this.state.filters[name] ?? { quarantined: [] };
  }

  /**
   * Applies a change in memory at once and persists it; writes are
   * serialised in call order, and each writes the whole state, so one that
   * fails is made good by the next. The promise rejects when this write
   * failed: a caller that does not wait hands it to runInBackground.
   */
  update(change: (s: PersistedState) => PersistedState): Promise<void> {
    this.state = deepFreeze(change(this.state));
    const snapshot = this.state;
    const dir = this.dir;
    const write = this.writing.then(async () => {
      if (!dir) return;
      // The folder may have been removed under a running server: make it again rather than lose the state.
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, STATE_FILE), `${JSON.stringify(snapshot, null, 2)}\n`);
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
