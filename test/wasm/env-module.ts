/**
 * A hand-written proxy-wasm module that reads its environment through WASI,
 * as wasi-libc's getenv does: environ_sizes_get, then environ_get. On
 * on_vm_start it logs every entry at info as `env: K=V;K=V;`; on_configure
 * fails (returns 0) when the environment is empty, so a module that needs
 * its variables is refused by a check that does not give them.
 */
import { proxyImport, proxyWat, wat } from "../helpers/wat";

const SOURCE = proxyWat({
  imports: `
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $get (param i32 i32) (result i32)))
  ${proxyImport("proxy_log", 3)}`,
  body: `
  (data (i32.const 2048) "env: ")
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (local $i i32) (local $n i32)
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    ;; pointers at 16.., strings right after the "env: " prefix at 2048
    (drop (call $get (i32.const 16) (i32.const 2053)))
    (local.set $n (i32.load (i32.const 4)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eqz (i32.load8_u (i32.add (i32.const 2053) (local.get $i))))
        (then (i32.store8 (i32.add (i32.const 2053) (local.get $i)) (i32.const 59))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (drop (call $proxy_log (i32.const 2) (i32.const 2048) (i32.add (i32.const 5) (local.get $n))))
    (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (i32.ne (i32.load (i32.const 0)) (i32.const 0)))`,
});

let compiled: Promise<Uint8Array> | undefined;

/** The module's bytes (compiled once per test file). */
export function envModule(): Promise<Uint8Array> {
  compiled ??= wat(SOURCE);
  return compiled;
}

/** The variables the module logged, from its `env: ` line. */
export function loggedEnv(lines: readonly { readonly message: string }[]): Record<string, string> | undefined {
  const line = lines.find((l) => l.message.startsWith("env: "));
  if (!line) return undefined;
  const out: Record<string, string> = {};
  for (const entry of line.message.slice(5).split(";")) {
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}
