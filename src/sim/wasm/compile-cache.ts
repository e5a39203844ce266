/**
 * Compiled modules shared by every simulated node in the process, keyed by
 * the code's sha256. Compiling is the expensive step and gives the same
 * result for the same bytes, so a fleet compiles each module once; what a
 * node observes (VMs created, its own remote cache, stats) stays per node.
 * Compilation failures are remembered too ("Failed to load Wasm bytecode").
 */
import { errorMessage, ModuleError } from "../../errors";
import { type CompiledProxyWasm, compileProxyWasmSync } from "../../wasm/host";

const MAX_ENTRIES = 256;
const cache = new Map<string, CompiledProxyWasm | ModuleError>();

/** Compiles synchronously, as Envoy loads inline code while applying the update. */
export function compileCached(sha256: string, bytes: Uint8Array): CompiledProxyWasm {
  let hit = cache.get(sha256);
  if (hit === undefined) {
    try {
      hit = compileProxyWasmSync(bytes);
    } catch (err) {
      hit = err instanceof ModuleError ? err : new ModuleError("MODULE_INVALID", `Failed to load Wasm bytecode: ${errorMessage(err)}`);
    }
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(sha256, hit);
  }
  if (hit instanceof ModuleError) throw hit;
  return hit;
}
