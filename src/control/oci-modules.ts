/**
 * `oci://` modules in the rebuild (docs/OCI.md): the publisher hands each
 * such filter here, gets the module's bytes from the store once the
 * resolver has pulled (or found) them, and every error is prefixed with
 * the filter's name, so `wasmxds status` and the event log say which
 * filter and which reference failed. An Always re-resolution that failed
 * while an earlier module is held comes back as a warning: the rebuild
 * goes on with that module.
 */
import { isAbsolute, join, relative } from "node:path";
import { realpath } from "node:fs/promises";
import { FileReadError, describeFsError, readRegularFile } from "../config/read-file";
import type { LoadedConfig } from "../config";
import type { FilterConfig, ModuleSource } from "../config/model";
import { WasmxdsError } from "../errors";
import type { ModuleStore } from "../wasm/module-store";
import { MAX_PULL_SECRET_BYTES, type OciResolver, type PullSecretSource } from "../wasm/oci";
import type { ModuleBytes } from "../resources";

export type OciSourceConfig = Extract<ModuleSource, { type: "oci" }>;

export interface OciPulled {
  readonly module: ModuleBytes;
  /** Set when the registry failed and the earlier module is served (once per distinct failure). */
  readonly warning?: string;
}

export async function pullOciModule(
  filter: FilterConfig,
  source: OciSourceConfig,
  loaded: LoadedConfig,
  oci: Pick<OciResolver, "resolve"> | undefined,
  store: Pick<ModuleStore, "get">,
): Promise<OciPulled> {
  const name = `filter "${filter.name}"`;
  if (!oci) throw new WasmxdsError("MODULE_FETCH_FAILED", `${name}: ${source.reference}: no OCI resolver is wired in (startWasmxds makes one)`);
  const { server } = loaded.config;
  let resolved: Awaited<ReturnType<OciResolver["resolve"]>>;
  try {
    resolved = await oci.resolve(
      {
        reference: source.reference,
        pullPolicy: source.pullPolicy,
        insecure: source.insecure ?? false,
        ...(source.sha256 !== undefined && { sha256: source.sha256 }),
        ...(source.pullSecret !== undefined && { pullSecret: configFolderSecret(loaded.dir, source.pullSecret) }),
      },
      { allowPrivateFetch: server.allowPrivateFetch ?? false, ...(server.maxModuleBytes !== undefined && { maxBytes: server.maxModuleBytes }) },
    );
  } catch (err) {
    if (err instanceof WasmxdsError) throw new WasmxdsError(err.code, `${name}: ${err.message}`, { cause: err });
    throw err;
  }
  const bytes = store.get(resolved.sha256);
  if (!bytes) throw new WasmxdsError("MODULE_FETCH_FAILED", `${name}: module ${resolved.sha256} of ${source.reference} vanished from the store`);
  return {
    module: { sha256: resolved.sha256, bytes },
    ...(resolved.stale !== undefined &&
      resolved.repeated !== true && {
      warning: `${name}: ${resolved.stale}; serving the module pulled before (${resolved.manifestDigest}, sha256 ${resolved.sha256.slice(0, 12)})`,
    }),
  };
}

/**
 * A pullSecret file of the config folder, read with that folder's rules
 * (load.ts does the same for modules): the path must stay inside the folder
 * after symlinks, and must be a regular file of bounded size — a fifo would
 * block a read forever.
 */
function configFolderSecret(dir: string, path: string): PullSecretSource {
  const label = path;
  const fail = (why: string, cause?: unknown) => new WasmxdsError("MODULE_FETCH_FAILED", `pullSecret ${label}: ${why}`, { cause });
  return {
    label,
    read: async () => {
      let absolute: string;
      try {
        absolute = await realpath(join(dir, path));
      } catch (err) {
        throw fail((err as { code?: unknown }).code === "ENOENT" ? "no such file in the config folder" : describeFsError(err), err);
      }
      const inside = relative(dir, absolute);
      if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) throw fail(`resolves to ${absolute}, outside the config folder`);
      try {
        return (await readRegularFile(absolute, MAX_PULL_SECRET_BYTES)).toString("utf8");
      } catch (err) {
        throw fail(err instanceof FileReadError ? err.message : describeFsError(err), err);
      }
    },
  };
}
