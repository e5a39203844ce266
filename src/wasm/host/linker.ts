/**
 * Builds the import object for one VM, refusing what Envoy refuses at link
 * time (proxy-wasm-cpp-host src/v8/v8.cc link): a function import the host
 * does not provide for the module's ABI version, a function import whose
 * signature differs from the host's, and any global import. Imported
 * memories and tables are created from the module's declared limits.
 *
 * While the VM starts, and while the host calls the module's allocator,
 * Envoy allows only a few host functions and traps on the rest with
 * "restricted_callback" (src/wasm.cc startVm and WasmBase::allocMemory,
 * setRestrictedCallback; src/v8/v8.cc); the wrapper here does the same.
 */
import { ModuleError } from "../../errors";
import type { AbiVersion } from "../abi/versions";
import { hostFunctionsFor, WASI_MODULES } from "../abi/host-functions";
import type { ModuleInterface } from "../abi/module-interface";
import { formatSig, sameSig } from "../abi/signature";
import type { HostEnv, HostFunction } from "./host-env";
import { bufferImports } from "./imports-buffers";
import { callImports } from "./imports-calls";
import { generalImports } from "./imports-general";
import { httpImports } from "./imports-http";
import { sharedImports } from "./imports-shared";
import { wasiImports } from "./wasi";
import { Wasm, type WasmImports, type WasmMemory, type WasmModule } from "./wasm-api";

/** Host functions allowed while the VM starts (src/wasm.cc startVm). */
export const START_ALLOWED: ReadonlySet<string> = new Set([
  "env.proxy_log",
  ...WASI_MODULES.flatMap((m) =>
    [
      "fd_write",
      "args_sizes_get",
      "args_get",
      "environ_sizes_get",
      "environ_get",
      "fd_prestat_get",
      "fd_prestat_dir_name",
      "clock_time_get",
      "random_get",
    ].map((f) => `${m}.${f}`),
  ),
]);

/** Host functions allowed while the host runs the module's allocator (WasmBase::allocMemory). */
export const ALLOC_ALLOWED: ReadonlySet<string> = new Set([
  "env.proxy_log",
  ...WASI_MODULES.flatMap((m) => [`${m}.fd_write`, `${m}.clock_time_get`]),
]);

/** While `allowed` is set, every other host function traps with "restricted_callback". */
export interface Restriction {
  allowed: ReadonlySet<string> | undefined;
}

export interface Linked {
  readonly imports: WasmImports;
  readonly importedMemory: WasmMemory | undefined;
}

function missing(module: string, name: string): ModuleError {
  return new ModuleError("MODULE_REJECTED", `Failed to load Wasm module due to a missing import: ${module}.${name}`);
}

/** All implementations keyed `module.name`, bound to one VM's environment. */
function implementations(env: HostEnv): Map<string, HostFunction> {
  const out = new Map<string, HostFunction>();
  const envFns = {
    ...generalImports(env),
    ...httpImports(env),
    ...bufferImports(env),
    ...sharedImports(env),
    ...callImports(env),
  };
  for (const [n, f] of Object.entries(envFns)) out.set(`env.${n}`, f);
  const wasi = wasiImports(env);
  for (const m of WASI_MODULES) for (const [n, f] of Object.entries(wasi)) out.set(`${m}.${n}`, f);
  return out;
}

export function link(
  module: WasmModule,
  iface: ModuleInterface | undefined,
  abi: AbiVersion,
  env: HostEnv,
  restriction: Restriction,
): Linked {
  const provided = hostFunctionsFor(abi);
  const impls = implementations(env);
  const imports: WasmImports = {};
  let importedMemory: WasmMemory | undefined;
  const described = iface?.imports;

  Wasm.Module.imports(module).forEach((desc, i) => {
    const key = `${desc.module}.${desc.name}`;
    const detail = described?.[i];
    const ns = imports[desc.module] ?? {};
    imports[desc.module] = ns;
    if (desc.kind === "function") {
      const want = provided.get(key);
      const impl = impls.get(key);
      if (!want || !impl) throw missing(desc.module, desc.name);
      if (detail?.signature && !sameSig(detail.signature, want)) {
        throw new ModuleError(
          "MODULE_REJECTED",
          `Failed to load Wasm module due to an import type mismatch for function ${key}, want: ${formatSig(detail.signature)}, but host exports: ${formatSig(want)}`,
        );
      }
      ns[desc.name] = (...args: never[]) => {
        if (restriction.allowed && !restriction.allowed.has(key)) {
          throw new Wasm.RuntimeError("restricted_callback");
        }
        return impl(...args);
      };
      return;
    }
    if (desc.kind === "memory") {
      const limits = detail?.limits;
      if (!limits) throw new ModuleError("MODULE_REJECTED", `cannot create imported memory ${key}: limits unknown`);
      importedMemory = new Wasm.Memory(
        limits.max === undefined
          ? { initial: limits.min, shared: limits.shared }
          : { initial: limits.min, maximum: limits.max, shared: limits.shared },
      );
      ns[desc.name] = importedMemory;
      return;
    }
    if (desc.kind === "table") {
      const limits = detail?.limits;
      if (!limits) throw new ModuleError("MODULE_REJECTED", `cannot create imported table ${key}: limits unknown`);
      const element = detail?.element === "externref" ? "externref" : "anyfunc";
      ns[desc.name] = new Wasm.Table(
        limits.max === undefined
          ? { element, initial: limits.min }
          : { element, initial: limits.min, maximum: limits.max },
      );
      return;
    }
    // Globals (and tags) cannot be linked: Envoy reports them as missing imports.
    throw missing(desc.module, desc.name);
  });
  return { imports, importedMemory };
}
