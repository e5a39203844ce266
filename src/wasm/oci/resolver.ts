/**
 * `oci://` modules: resolve the reference, pull and verify the module, store
 * it content-addressed, and remember what the reference resolved to
 * (pull-index.ts). `pullPolicy` decides when the registry is asked:
 *
 * - IfNotPresent (default): a reference already resolved, whose module the
 *   store holds (and that matches the filter's sha256, when given), is not
 *   pulled again, across restarts too.
 * - Always: a tag is re-resolved on every rebuild (a manifest HEAD; manifest and layer
 *   only when the digest moved). When the registry fails, the module it
 *   resolved to before keeps being served, and the failure is reported
 *   (`stale`, and `status()` for the admin API). A digest cannot move, so a
 *   pinned reference is never pulled twice under either policy.
 */
import { ModuleError, errorMessage } from "../../errors";
import { type Logger, silentLogger } from "../../logger";
import { type Clock, realClock } from "../../time/clock";
import type { HostResolver } from "../fetch-guard";
import type { ModuleStore } from "../module-store";
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_FETCH_BYTES } from "../remote-fetch";
import { sha256Hex } from "../../vocabulary/sha256";
import { MAX_PULL_RECORDS, PullIndex } from "./pull-index";
import { type PullSecretSource, readPullSecret } from "./pull-secret";
import { pullModule, resolveManifest } from "./pull";
import { type OciReference, manifestReference, parseOciReference } from "../../vocabulary/oci-reference";
import { MANIFEST_ACCEPT } from "./manifest";
import { RegistryClient } from "./registry-client";

export type PullPolicy = "IfNotPresent" | "Always";

export interface OciSource {
  readonly reference: string;
  /** The filter's sha256: the module itself must hash to it. */
  readonly sha256?: string;
  /** The docker config.json, read only when a pull needs it. */
  readonly pullSecret?: PullSecretSource;
  readonly pullPolicy: PullPolicy;
  readonly insecure: boolean;
}

export interface OciResolution {
  readonly sha256: string;
  readonly size: number;
  readonly manifestDigest: string;
  /** Set when an Always re-resolution failed and the earlier module is served: the failure. */
  readonly stale?: string;
  /** The same `stale` failure as the previous resolution of this reference reported. */
  readonly repeated?: boolean;
}

/** What the admin API shows per reference. */
export interface OciPullStatus {
  readonly reference: string;
  readonly pullPolicy: PullPolicy;
  readonly manifestDigest?: string;
  readonly sha256?: string;
  /** When the registry last confirmed or delivered this resolution. */
  readonly resolvedAt?: number;
  readonly error?: string;
  readonly errorAt?: number;
}

export interface OciResolverOptions {
  readonly store: Pick<ModuleStore, "get" | "put" | "has">;
  /** Where the pull index lives (beside the module store); unset: memory only. */
  readonly indexFile?: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** PEM roots trusted for registries' https (embedding, tests; NODE_EXTRA_CA_CERTS does this for the CLI). */
  readonly ca?: string;
  readonly allowAddresses?: readonly string[];
  readonly hostResolver?: HostResolver;
  readonly connectTimeoutMs?: number;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export class OciResolver {
  readonly #inFlight = new Map<string, Promise<OciResolution>>();
  readonly #status = new Map<string, OciPullStatus>();
  readonly #clock: Clock;
  readonly #logger: Logger;

  private constructor(
    private readonly o: OciResolverOptions,
    private readonly index: PullIndex,
  ) {
    this.#clock = o.clock ?? realClock;
    this.#logger = o.logger ?? silentLogger;
  }

  static async open(options: OciResolverOptions): Promise<OciResolver> {
    return new OciResolver(options, await PullIndex.open(options.indexFile, options.logger ?? silentLogger));
  }

  /** The last pull outcome of every reference asked for, most recent last. */
  statuses(): OciPullStatus[] {
    return [...this.#status.values()];
  }

  /** The last pull outcome of a reference as written in a filter. */
  status(reference: string): OciPullStatus | undefined {
    return this.#status.get(reference);
  }

  async resolve(source: OciSource, policy: { readonly allowPrivateFetch: boolean; readonly maxBytes?: number }): Promise<OciResolution> {
    const parsed = parseOciReference(source.reference);
    if ("error" in parsed) throw new ModuleError("MODULE_FETCH_FAILED", parsed.error);
    const ref = parsed.value;
    const key = indexKey(ref);
    const known = this.index.get(key);
    const usable = known !== undefined && this.o.store.has(known.sha256) && (source.sha256 === undefined || source.sha256 === known.sha256);
    if (usable && (source.pullPolicy === "IfNotPresent" || ref.digest !== undefined)) {
      return { sha256: known.sha256, size: this.o.store.get(known.sha256)?.length ?? 0, manifestDigest: known.manifestDigest };
    }
    const flightKey = `${key} ${source.sha256 ?? ""} ${source.pullPolicy}`;
    let running = this.#inFlight.get(flightKey);
    if (!running) {
      running = this.#pull(ref, key, source, policy);
      this.#inFlight.set(flightKey, running);
    }
    try {
      return await running;
    } catch (err) {
      const message = errorMessage(err);
      // The same failure again (a registry down across many polls) is reported once, dated from its first time.
      const previous = this.#status.get(source.reference);
      const repeated = previous?.error === message;
      const errorAt = repeated && previous.errorAt !== undefined ? previous.errorAt : this.#clock.now();
      this.#record(source, { ...(usable && known && { manifestDigest: known.manifestDigest, sha256: known.sha256, resolvedAt: known.at }), error: message, errorAt });
      if (usable && known && source.pullPolicy === "Always") {
        if (!repeated) this.#logger.warn("OCI re-resolution failed; serving the module pulled before", { reference: ref.text, sha256: known.sha256, error: message });
        return { sha256: known.sha256, size: this.o.store.get(known.sha256)?.length ?? 0, manifestDigest: known.manifestDigest, stale: message, ...(repeated && { repeated: true }) };
      }
      throw err;
    } finally {
      this.#inFlight.delete(flightKey);
    }
  }

  async #pull(ref: OciReference, key: string, source: OciSource, policy: { readonly allowPrivateFetch: boolean; readonly maxBytes?: number }): Promise<OciResolution> {
    const credentials = source.pullSecret ? await readPullSecret(source.pullSecret, ref.registry) : undefined;
    const client = new RegistryClient(ref, credentials, {
      insecure: source.insecure,
      allowPrivateFetch: policy.allowPrivateFetch,
      clock: this.#clock,
      connectTimeoutMs: this.o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      timeoutMs: this.o.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
      ...(this.o.ca !== undefined && { ca: this.o.ca }),
      ...(this.o.allowAddresses !== undefined && { allowAddresses: this.o.allowAddresses }),
      ...(this.o.hostResolver !== undefined && { resolver: this.o.hostResolver }),
      ...(this.o.signal !== undefined && { signal: this.o.signal }),
    });
    const known = this.index.get(key);
    const held = known && this.o.store.get(known.sha256);
    if (known && held && (source.sha256 === undefined || source.sha256 === known.sha256) && (await tagStillAt(client, ref, known.manifestDigest))) {
      // An Always re-resolution of a tag that did not move: one HEAD, nothing downloaded.
      const at = this.#clock.now();
      await this.index.set(key, { ...known, at });
      this.#record(source, { manifestDigest: known.manifestDigest, sha256: known.sha256, resolvedAt: at });
      return { sha256: known.sha256, size: held.length, manifestDigest: known.manifestDigest };
    }
    const manifest = await resolveManifest(client, ref);
    let sha256: string;
    let size: number;
    if (known && held && known.manifestDigest === manifest.digest && (source.sha256 === undefined || source.sha256 === known.sha256)) {
      // The tag did not move (the registry sent no digest on HEAD): nothing to download.
      sha256 = known.sha256;
      size = held.length;
    } else {
      const pulled = await pullModule(client, ref, manifest.image, policy.maxBytes ?? DEFAULT_MAX_FETCH_BYTES);
      const actual = sha256Hex(pulled.bytes);
      if (source.sha256 !== undefined && actual !== source.sha256) {
        throw new ModuleError("MODULE_HASH_MISMATCH", `${ref.text}: sha256 mismatch: the filter expects ${source.sha256}, the module in ${manifest.digest} is ${actual}`);
      }
      const stored = await this.o.store.put(pulled.bytes);
      sha256 = stored.sha256;
      size = stored.size;
      this.#logger.info("OCI module pulled", { reference: ref.text, manifest: manifest.digest, layer: pulled.layer.digest, sha256, size });
    }
    const at = this.#clock.now();
    await this.index.set(key, { manifestDigest: manifest.digest, sha256, at });
    this.#record(source, { manifestDigest: manifest.digest, sha256, resolvedAt: at });
    return { sha256, size, manifestDigest: manifest.digest };
  }

  #record(source: OciSource, fields: Omit<OciPullStatus, "reference" | "pullPolicy">): void {
    this.#status.delete(source.reference);
    this.#status.set(source.reference, Object.freeze({ reference: source.reference, pullPolicy: source.pullPolicy, ...fields }));
    if (this.#status.size > MAX_PULL_RECORDS) this.#status.delete(this.#status.keys().next().value as string);
  }
}

/**
 * Whether the tag still names `digest`, asked with a HEAD (Docker-Content-Digest).
 * Any failure or a registry that sends no digest answers false: the GET that
 * follows then reports the real error or settles it.
 */
async function tagStillAt(client: RegistryClient, ref: OciReference, digest: string): Promise<boolean> {
  try {
    const headers = await client.head(`manifests/${manifestReference(ref)}`, MANIFEST_ACCEPT, `manifest ${manifestReference(ref)}`);
    return headers["docker-content-digest"] === digest;
  } catch {
    return false;
  }
}

/** One key per thing a registry can resolve: a digest, or a tag of a repository. */
function indexKey(ref: OciReference): string {
  return ref.digest !== undefined ? `${ref.registry}/${ref.repository}@${ref.digest}` : `${ref.registry}/${ref.repository}:${ref.tag ?? "latest"}`;
}
