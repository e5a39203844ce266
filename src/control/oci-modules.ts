/**
 * `oci://` modules in the rebuild (docs/OCI.md): the publisher hands each
 * such filter here, gets the module's bytes from the store once the
 * resolver has pulled (or found) them, and every error is prefixed with
 * the filter's name, so `wasmxds status` and the event log say which
 * filter and which reference failed. An Always re-resolution that failed
 * while an earlier module is held comes back as a warning: the rebuild
 * goes on with that module.
 */
import { join } from "node:path";
import type { LoadedConfig } from "../config";
import type { FilterConfig, ModuleSource } from "../config/model";
import { WasmxdsError } from "../errors";
import type { ModuleStore } from "../wasm/module-store";
import type { OciResolver } from "../wasm/oci";
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
        ...(source.pullSecret !== undefined && { pullSecret: { file: join(loaded.dir, source.pullSecret), label: source.pullSecret } }),
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
