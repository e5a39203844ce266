/**
 * Modules between replicas (docs/REPLICAS.md, "The same versions
 * everywhere"). The shared state names modules by sha256 (known-good
 * chains, quarantines, rollouts); each replica keeps module bytes in its own
 * content-addressed store, filled from its copy of the config folder. A
 * replica that lacks one the state names (started after the folder moved
 * on, or a new machine) fetches it from another replica's module server,
 * the same URL Envoys use, and keeps it only if its sha256 is the one
 * named. Modules never travel through etcd (its values stop at about
 * 1.5 MiB). A replica whose module server runs `--modules-tls` is asked
 * over https, its certificate checked against `--modules-ca` when given
 * (integrity rests on the sha256 either way).
 */
import { createHash } from "node:crypto";
import { type IncomingMessage, get } from "node:http";
import { get as httpsGet } from "node:https";
import { errorMessage } from "../errors";
import type { Logger } from "../logger";
import type { Replicas } from "./replicas";

/** What this needs of the module store (wasm/module-store.ts). */
export interface ModuleBytes {
  has(sha256: string): boolean;
  put(bytes: Uint8Array): Promise<{ readonly sha256: string }>;
}

export const FETCH_TIMEOUT_MS = 10_000;
const SHA256 = /^[0-9a-f]{64}$/;

export class ModuleSync {
  constructor(
    private readonly replicas: Replicas,
    private readonly store: ModuleBytes,
    private readonly logger: Logger,
    private readonly maxBytes: number,
    /** PEM CA of the replicas' https module servers (`--modules-ca`); unset: their certificates are not checked. */
    private readonly modulesCa?: string,
  ) {}

  /** Fetches every named module the store lacks from another replica; returns those no replica could give. */
  async ensure(shas: Iterable<string>): Promise<string[]> {
    const missing = [...new Set(shas)].filter((s) => SHA256.test(s) && !this.store.has(s));
    const failed: string[] = [];
    for (const sha of missing) {
      if (!(await this.fetchOne(sha))) failed.push(sha);
    }
    return failed;
  }

  private async fetchOne(sha: string): Promise<boolean> {
    const self = this.replicas.self;
    for (const r of this.replicas.list()) {
      if (r.id === self || !r.modules) continue;
      const url = `${r.modulesTls ? "https" : "http"}://${r.modules}/modules/${sha}.wasm`;
      try {
        const bytes = await fetchBounded(url, this.maxBytes, this.modulesCa);
        const got = createHash("sha256").update(bytes).digest("hex");
        if (got !== sha) {
          this.logger.warn("module from another replica has the wrong sha256; not kept", { replica: r.id, url, got });
          continue;
        }
        await this.store.put(bytes);
        this.logger.info("module fetched from another replica", { replica: r.id, sha256: sha });
        return true;
      } catch (err) {
        this.logger.debug("module not fetched from a replica", { replica: r.id, url, error: errorMessage(err) });
      }
    }
    return false;
  }
}

function fetchBounded(url: string, maxBytes: number, ca: string | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${url}: HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          req.destroy(new Error(`${url}: larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on("end", () => resolve(Buffer.concat(chunks)));
      res.on("error", reject);
    };
    const req = url.startsWith("https:")
      ? httpsGet(url, { timeout: FETCH_TIMEOUT_MS, rejectUnauthorized: ca !== undefined, ...(ca !== undefined && { ca }) }, onResponse)
      : get(url, { timeout: FETCH_TIMEOUT_MS }, onResponse);
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within ${FETCH_TIMEOUT_MS} ms`)));
    req.on("error", reject);
  });
}
