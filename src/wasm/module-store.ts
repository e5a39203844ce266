/**
 * Content-addressed store of wasm modules, keyed by the lowercase hex SHA-256
 * of their bytes — the same string Envoy checks RemoteDataSource.sha256
 * against — so a key can never name different bytes and entries never change.
 *
 * With a directory, every module is also kept on disk as `<sha256>.wasm`
 * (written atomically: temp file, fsync, rename, fsync the directory) and
 * loaded back on open, so a restarted control plane can keep serving the
 * modules its Envoys were told about without fetching them again.
 */
import { mkdir, readFile, readdir, rm } from "node:fs/promises";
import { writeFileAtomic } from "../fs/atomic-write";
import { join } from "node:path";
import { errorMessage } from "../errors";
import { type Logger, silentLogger } from "../logger";
import { isSha256Hex, sha256Hex } from "../vocabulary/sha256";

export interface StoredModule {
  /** Lowercase hex SHA-256 of the bytes. */
  readonly sha256: string;
  /** Size in bytes. */
  readonly size: number;
}

export interface ModuleStoreOptions {
  /** Persist modules here and load them back on open. Created if missing. */
  readonly dir?: string;
  readonly logger?: Logger;
}

const MODULE_FILE = /^([0-9a-f]{64})\.wasm$/;
// Leftovers of a write interrupted by a crash; the leading dot keeps them
// from ever matching MODULE_FILE.
// Temporary files of writeFileAtomic: `.<sha256>.wasm.<pid>.<random>.tmp`.
const TEMP_FILE = /^\.[0-9a-f]{64}\.wasm\.[0-9]+\.[0-9a-f]+\.tmp$/;

export class ModuleStore {
  readonly #modules = new Map<string, Buffer>();
  // Puts still writing to disk, so concurrent puts of one module write it once.
  readonly #pending = new Map<string, Promise<StoredModule>>();
  readonly #dir: string | undefined;
  readonly #logger: Logger;

  /** An empty store. Use `ModuleStore.open` for one backed by a directory. */
  constructor(options: ModuleStoreOptions = {}) {
    this.#dir = options.dir;
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * A store backed by `options.dir` (when given), holding every intact module
   * found there. A file whose bytes do not hash to its name is skipped with a
   * warning and left in place; a later put of that module replaces it.
   */
  static async open(options: ModuleStoreOptions = {}): Promise<ModuleStore> {
    const store = new ModuleStore(options);
    await store.#load();
    return store;
  }

  /** Adds a module (a no-op when present) and returns its key. The bytes are copied. */
  async put(bytes: Uint8Array): Promise<StoredModule> {
    const sha256 = sha256Hex(bytes);
    const existing = this.#modules.get(sha256);
    if (existing !== undefined) return describe(sha256, existing);
    const pending = this.#pending.get(sha256);
    if (pending !== undefined) return pending;

    // Copy so a caller reusing its buffer cannot change an entry behind its hash.
    const copy = Buffer.from(bytes);
    const write = this.#persist(sha256, copy).then(() => {
      this.#modules.set(sha256, copy);
      this.#logger.debug("module stored", { sha256, size: copy.length });
      return describe(sha256, copy);
    });
    this.#pending.set(sha256, write);
    try {
      return await write;
    } finally {
      this.#pending.delete(sha256);
    }
  }

  /**
   * The module's bytes, shared with the store rather than copied (modules run
   * to tens of MiB and the module server streams them per request): callers
   * must not modify them.
   */
  get(sha256: string): Buffer | undefined {
    return this.#modules.get(sha256);
  }

  has(sha256: string): boolean {
    return this.#modules.has(sha256);
  }

  /** Every module held, in insertion order. */
  list(): StoredModule[] {
    return [...this.#modules].map(([sha256, bytes]) => describe(sha256, bytes));
  }

  /** Removes a module from memory and disk. Returns whether it was present. */
  async delete(sha256: string): Promise<boolean> {
    const bytes = this.#modules.get(sha256);
    if (bytes === undefined) return false;
    // Forget it first so it stops being served even if the unlink fails.
    this.#modules.delete(sha256);
    if (this.#dir !== undefined && isSha256Hex(sha256)) {
      await rm(join(this.#dir, `${sha256}.wasm`), { force: true });
    }
    this.#logger.debug("module deleted", { sha256, size: bytes.length });
    return true;
  }

  /**
   * Garbage collection: deletes every module not in `keep` (the hashes still
   * referenced by some snapshot) and returns the hashes deleted.
   */
  async retainOnly(keep: Iterable<string>): Promise<string[]> {
    const wanted = new Set(keep);
    const doomed = [...this.#modules.keys()].filter((sha256) => !wanted.has(sha256));
    for (const sha256 of doomed) await this.delete(sha256);
    if (doomed.length > 0) this.#logger.info("modules garbage collected", { deleted: doomed.length });
    return doomed;
  }

  async #persist(sha256: string, bytes: Buffer): Promise<void> {
    if (this.#dir === undefined) return;
    await writeFileAtomic(join(this.#dir, `${sha256}.wasm`), bytes);
  }

  async #load(): Promise<void> {
    const dir = this.#dir;
    if (dir === undefined) return;
    await mkdir(dir, { recursive: true });
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      if (TEMP_FILE.test(name)) {
        this.#logger.debug("removing an interrupted module write", { file: path });
        await rm(path, { force: true });
        continue;
      }
      const expected = MODULE_FILE.exec(name)?.[1];
      if (expected === undefined) continue;
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (err) {
        this.#logger.warn("module file is unreadable; skipping it", { file: path, error: errorMessage(err) });
        continue;
      }
      const actual = sha256Hex(bytes);
      if (actual !== expected) {
        this.#logger.warn("module file is corrupt (its sha256 does not match its name); skipping it", {
          file: path,
          expected,
          actual,
          size: bytes.length,
        });
        continue;
      }
      this.#modules.set(actual, bytes);
    }
    this.#logger.info("module store loaded", { dir, modules: this.#modules.size });
  }
}

function describe(sha256: string, bytes: Buffer): StoredModule {
  return Object.freeze({ sha256, size: bytes.length });
}
