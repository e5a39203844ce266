/**
 * What each OCI reference resolved to when last pulled: manifest digest and
 * module sha256, kept beside the module store on disk, so a restarted
 * control plane finds `oci://r/x:v1` in the store without asking the
 * registry (and serves it while the registry is down). Bounded: the oldest
 * entries go first; a lost entry only costs one pull.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { errorMessage } from "../../errors";
import { writeFileAtomic } from "../../fs/atomic-write";
import type { Logger } from "../../logger";
import { isSha256Hex } from "../../vocabulary/sha256";

export interface PullRecord {
  readonly manifestDigest: string;
  readonly sha256: string;
  /** When this resolution was pulled or last confirmed (ms since the epoch). */
  readonly at: number;
}

export const MAX_PULL_RECORDS = 1024;

export class PullIndex {
  readonly #records = new Map<string, PullRecord>();
  #writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string | undefined,
    private readonly logger: Logger,
  ) {}

  /** The index kept in `file` (created on first write), or in memory only. An unreadable file starts an empty index. */
  static async open(file: string | undefined, logger: Logger): Promise<PullIndex> {
    const index = new PullIndex(file, logger);
    if (file === undefined) return index;
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") logger.warn("OCI pull index is unreadable; starting empty", { file, error: errorMessage(err) });
      return index;
    }
    try {
      const json = JSON.parse(text) as { records?: Record<string, Partial<PullRecord>> };
      for (const [key, r] of Object.entries(json.records ?? {}).slice(-MAX_PULL_RECORDS)) {
        if (typeof r.manifestDigest === "string" && typeof r.sha256 === "string" && isSha256Hex(r.sha256) && typeof r.at === "number") {
          index.#records.set(key, { manifestDigest: r.manifestDigest, sha256: r.sha256, at: r.at });
        }
      }
    } catch (err) {
      logger.warn("OCI pull index is not valid JSON; starting empty", { file, error: errorMessage(err) });
    }
    return index;
  }

  get(key: string): PullRecord | undefined {
    return this.#records.get(key);
  }

  /** Records a resolution and writes the index (writes are serialised; a failed write is logged, the pull still counts). */
  async set(key: string, record: PullRecord): Promise<void> {
    this.#records.delete(key);
    this.#records.set(key, Object.freeze({ ...record }));
    while (this.#records.size > MAX_PULL_RECORDS) this.#records.delete(this.#records.keys().next().value as string);
    const file = this.file;
    if (file === undefined) return;
    const text = `${JSON.stringify({ version: 1, records: Object.fromEntries(this.#records) }, null, 2)}\n`;
    this.#writing = this.#writing.then(async () => {
      try {
        await mkdir(dirname(file), { recursive: true });
        await writeFileAtomic(file, text);
      } catch (err) {
        this.logger.warn("could not save the OCI pull index", { file, error: errorMessage(err) });
      }
    });
    await this.#writing;
  }
}
