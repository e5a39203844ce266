/**
 * A compiled proxy-wasm module: the engine's WebAssembly.Module plus the
 * interface read from the binary and the declared ABI version. Compile once,
 * then create as many ProxyWasmVm instances from it as needed.
 */
import { ModuleError } from "../../errors";
import { type ModuleInterface, readModuleInterface } from "../abi/module-interface";
import { type AbiVersion, abiVersionOfMarker } from "../abi/versions";
import { Wasm, type WasmModule } from "./wasm-api";

export interface CompiledProxyWasm {
  readonly module: WasmModule;
  readonly interface: ModuleInterface;
  readonly abiVersion: AbiVersion;
}

/**
 * The ABI version a module declares. Like Envoy (src/bytecode_util.cc
 * getAbiVersion) the first marker export wins; the pre-flight check is the
 * place that insists on exactly one.
 */
export function declaredAbiVersion(exportNames: Iterable<string>): AbiVersion {
  for (const name of exportNames) {
    const v = abiVersionOfMarker(name);
    if (v) return v;
  }
  throw new ModuleError("MODULE_REJECTED", "Missing or unknown Proxy-Wasm ABI version");
}

function finish(module: WasmModule, bytes: Uint8Array): CompiledProxyWasm {
  const iface = readModuleInterface(bytes);
  const abiVersion = declaredAbiVersion(iface.exports.filter((e) => e.kind === "function").map((e) => e.name));
  return Object.freeze({ module, interface: iface, abiVersion });
}

function compileError(err: unknown): ModuleError {
  const msg = err instanceof Error ? err.message : String(err);
  return new ModuleError("MODULE_INVALID", `Failed to load Wasm bytecode: ${msg}`, { cause: err });
}

export async function compileProxyWasm(bytes: Uint8Array): Promise<CompiledProxyWasm> {
  let module: WasmModule;
  try {
    module = await Wasm.compile(bytes);
  } catch (err) {
    throw compileError(err);
  }
  return finish(module, bytes);
}

export function compileProxyWasmSync(bytes: Uint8Array): CompiledProxyWasm {
  let module: WasmModule;
  try {
    module = new Wasm.Module(bytes);
  } catch (err) {
    throw compileError(err);
  }
  return finish(module, bytes);
}

/** Wraps a module compiled elsewhere when its bytes are known. */
export function fromModule(module: WasmModule, bytes: Uint8Array): CompiledProxyWasm {
  return finish(module, bytes);
}
