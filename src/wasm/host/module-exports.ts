/**
 * Looks up the functions the host calls in an instance, the way Envoy does
 * after linking (proxy-wasm-cpp-host src/wasm.cc getFunctions and
 * src/v8/v8.cc getModuleFunctionImpl): a known name with the wrong
 * signature fails the VM with "Bad function signature for: <name>", a
 * missing allocator fails it with "Wasm module is missing malloc
 * function.", and the first exported memory is the module's memory.
 */
import { ModuleError } from "../../errors";
import { ALLOCATOR_SIG, ALLOCATORS, callbacksFor, START_FUNCTIONS } from "../abi/callbacks";
import type { ModuleInterface } from "../abi/module-interface";
import { type FuncSig, formatSig, sameSig } from "../abi/signature";
import type { AbiVersion } from "../abi/versions";
import { isWasmMemory, type WasmMemory } from "./wasm-api";

export type WasmFunction = (...args: number[]) => unknown;

export interface ResolvedExports {
  readonly memory: WasmMemory | undefined;
  readonly allocator: { readonly name: string; readonly fn: WasmFunction } | undefined;
  /** Start functions and proxy_on_* callbacks present in the module, by name. */
  readonly functions: ReadonlyMap<string, WasmFunction>;
}

function isFunction(v: unknown): v is WasmFunction {
  return typeof v === "function";
}

function checkSignature(name: string, want: FuncSig, fn: WasmFunction, iface: ModuleInterface | undefined): void {
  const have = iface?.exports.find((e) => e.name === name)?.signature;
  // Without the binary's types only the parameter count can be compared.
  const ok = have ? sameSig(have, want) : fn.length === want.params.length;
  if (!ok) {
    const shown = have ? formatSig(have) : `${fn.length} parameters`;
    throw new ModuleError(
      "MODULE_REJECTED",
      `Bad function signature for: ${name}, want: ${formatSig(want)}, but the module exports: ${shown}`,
    );
  }
}

export function resolveExports(
  exports: Readonly<Record<string, unknown>>,
  abi: AbiVersion,
  iface: ModuleInterface | undefined,
): ResolvedExports {
  const memory = Object.values(exports).find(isWasmMemory);

  let allocator: ResolvedExports["allocator"];
  for (const name of ALLOCATORS) {
    const fn = exports[name];
    if (!isFunction(fn)) continue;
    checkSignature(name, ALLOCATOR_SIG, fn, iface);
    allocator = { name, fn };
    break;
  }
  if (!allocator) throw new ModuleError("MODULE_REJECTED", "Wasm module is missing malloc function.");

  const functions = new Map<string, WasmFunction>();
  const wanted: [string, FuncSig][] = [...Object.entries(START_FUNCTIONS), ...callbacksFor(abi)];
  for (const [name, want] of wanted) {
    const fn = exports[name];
    if (!isFunction(fn)) continue;
    // Envoy only looks up main when _initialize exists (src/wasm.cc getFunctions).
    if ((name === "main" || name === "__main_void") && !isFunction(exports._initialize)) continue;
    checkSignature(name, want, fn, iface);
    functions.set(name, fn);
  }
  return { memory, allocator, functions };
}
