/**
 * Builds wasm test modules from WebAssembly text with wabt.js, plus a small
 * template for proxy-wasm modules (ABI marker, exported memory and a bump
 * allocator) so each test only writes the parts it is about.
 */
import wabtInit from "wabt";

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabt: Promise<Wabt> | undefined;

/** Compiles WAT text to a wasm binary; throws wabt's message on a syntax or validation error. */
export async function wat(source: string): Promise<Uint8Array> {
  wabt ??= wabtInit();
  const w = await wabt;
  const mod = w.parseWat("test.wat", source, { multi_value: true, mutable_globals: true, bulk_memory: true });
  try {
    mod.resolveNames();
    mod.validate();
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}

/** A bump allocator that never frees and grows memory as needed; fine for short tests. */
const BUMP_ALLOCATOR = `
  (global $heap (mut i32) (i32.const 65536))
  (func $alloc (param $n i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (global.get $heap))
    (local.set $end (i32.and (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow
        (i32.add (i32.shr_u (i32.sub (local.get $end) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16))
                 (i32.const 1))))))
    (global.set $heap (local.get $end))
    (local.get $p))`;

export interface ProxyWatParts {
  /** ABI marker versions to export, e.g. ["0_2_0"]; [] for none (default ["0_2_0"]). */
  abi?: string[];
  /** Import declarations (must come first in a module). */
  imports?: string;
  /** Functions, data segments and exports. Memory offsets 0..65535 are free for data and scratch. */
  body?: string;
  /** How the allocator is exported (default "malloc"); null for none. */
  allocator?: "malloc" | "proxy_on_memory_allocate" | null;
  /** Export the memory (default true). */
  memory?: boolean;
}

/** A proxy-wasm module in WAT: `imports`, then memory, allocator, ABI marker(s) and `body`. */
export function proxyWat(parts: ProxyWatParts = {}): string {
  const abi = parts.abi ?? ["0_2_0"];
  const allocator = parts.allocator === undefined ? "malloc" : parts.allocator;
  return `(module
  ${parts.imports ?? ""}
  (memory ${parts.memory === false ? "" : '(export "memory")'} 2)
  ${BUMP_ALLOCATOR}
  ${allocator ? `(export "${allocator}" (func $alloc))` : ""}
  ${abi.map((v) => `(func (export "proxy_abi_version_${v}"))`).join("\n  ")}
  ${parts.body ?? ""}
)`;
}

/** Import line for an env.proxy_* function with `n` i32 params and an i32 result. */
export function proxyImport(name: string, n: number, id = `$${name}`): string {
  const params = n > 0 ? `(param ${"i32 ".repeat(n).trim()})` : "";
  return `(import "env" "${name}" (func ${id} ${params} (result i32)))`;
}
