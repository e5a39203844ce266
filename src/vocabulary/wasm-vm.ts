/**
 * Vocabulary of the VmConfig settings beyond the code (config/wasm-vm-schema.ts):
 * the runtimes Envoy names and the environment a VM is given. Separate from
 * model.ts so the resource builders, the pre-flight check and the simulator
 * share one reading of them.
 */

/** Envoy's `envoy.wasm.runtime.<name>` engines wasmxds lets a filter ask for. */
export const WASM_RUNTIMES = ["v8", "wamr", "wasmtime"] as const;
export type WasmRuntimeName = (typeof WASM_RUNTIMES)[number];

/** VmConfig.runtime for a runtime name. */
export function envoyRuntime(name: WasmRuntimeName): string {
  return `envoy.wasm.runtime.${name}`;
}

/** VmConfig.environment_variables: keys read from Envoy's own environment, and fixed values. */
export interface VmEnvironment {
  readonly hostKeys: readonly string[];
  readonly values: Readonly<Record<string, string>>;
}

/**
 * The variables a module sees, merged as Envoy merges them (WasmConfig in
 * extensions/common/wasm/plugin.cc, docs/ENVOY.md "Environment variables"):
 * the fixed values, then each host key that `host` has a value for; a host
 * key without a value is left out, not set to "".
 */
export function mergedEnvironment(env: VmEnvironment | undefined, host: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  if (!env) return out;
  for (const [k, v] of Object.entries(env.values)) out[k] = v;
  for (const key of env.hostKeys) {
    const value = Object.hasOwn(host, key) ? host[key] : undefined;
    if (value !== undefined) out[key] = value;
  }
  return out;
}
