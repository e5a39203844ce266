/**
 * Watches a config folder with chokidar and reports settled changes.
 *
 * Editors and build tools write in odd ways: truncate then write, write a
 * temporary file then rename it over the target, several writes in a burst.
 * So: a file is only reported once its size has stopped changing for
 * `stabilityMs` (chokidar's awaitWriteFinish), temporary and editor files are
 * ignored, and events within `debounceMs` of each other are coalesced into
 * one batch. Whether content really changed is decided later by content
 * hashes, so an unchanged file never bumps a version.
 */
import { relative, sep } from "node:path";
import { type FSWatcher, watch } from "chokidar";
import type { Logger } from "../logger";

export type FileEvent = "add" | "change" | "unlink";

export interface ChangeBatch {
  /** Paths relative to the folder, `/`-separated, with the last event seen for each. */
  readonly changes: ReadonlyMap<string, FileEvent>;
  /** When the first file of the batch was reported stable (performance.now()). */
  readonly firstStableAt: number;
  /** When the batch was handed over (performance.now()). */
  readonly flushedAt: number;
}

export interface FolderWatcherOptions {
  readonly dir: string;
  readonly logger: Logger;
  readonly onBatch: (batch: ChangeBatch) => void;
  /** How long a file's size must stay unchanged before it is read (default 50 ms). */
  readonly stabilityMs?: number;
  /** Window in which stable events are coalesced into one batch (default 20 ms). */
  readonly debounceMs?: number;
  /** Relative paths (folders or files) never reported, e.g. the state folder. */
  readonly ignorePaths?: readonly string[];
}

/** Editor and tool litter: swap files, backups, temporary files, vim's write test. */
const LITTER = [/(^|\/)\.[^/]*\.sw[a-p]$/, /~$/, /(^|\/)\.#/, /\.(tmp|temp|part|crdownload)$/i, /(^|\/)4913$/, /(^|\/)node_modules(\/|$)/];

export function isLitter(rel: string): boolean {
  return LITTER.some((re) => re.test(rel));
}

export class FolderWatcher {
  private watcher: FSWatcher | undefined;
  private pending = new Map<string, FileEvent>();
  private firstStableAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: FolderWatcherOptions) {}

  /** Starts watching; resolves once the initial scan is done. */
  async start(): Promise<void> {
    const { dir } = this.options;
    const ignore = (this.options.ignorePaths ?? []).map((p) => p.replace(/\/+$/, ""));
    const stability = this.options.stabilityMs ?? 50;
    this.watcher = watch(dir, {
      ignoreInitial: true,
      awaitWriteFinish: { stabilityThreshold: stability, pollInterval: Math.max(5, Math.floor(stability / 5)) },
      atomic: true,
      ignored: (path: string) => {
        const rel = this.rel(path);
        if (rel === "") return false;
        return isLitter(rel) || ignore.some((p) => rel === p || rel.startsWith(`${p}/`));
      },
    });
    for (const event of ["add", "change", "unlink"] as const) {
      this.watcher.on(event, (path: string) => this.record(event, path));
    }
    this.watcher.on("error", (err: unknown) => this.options.logger.error("watcher error", { err: String(err) }));
    await new Promise<void>((resolve) => this.watcher!.once("ready", () => resolve()));
    this.options.logger.debug("watching", { dir });
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
  }

  private rel(path: string): string {
    return relative(this.options.dir, path).split(sep).join("/");
  }

  private record(event: FileEvent, path: string): void {
    if (this.pending.size === 0) this.firstStableAt = performance.now();
    this.pending.set(this.rel(path), event);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.options.debounceMs ?? 20);
  }

  private flush(): void {
    const batch: ChangeBatch = { changes: this.pending, firstStableAt: this.firstStableAt, flushedAt: performance.now() };
    this.pending = new Map();
    this.options.onBatch(batch);
  }
}
