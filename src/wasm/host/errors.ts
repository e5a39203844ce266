/**
 * Errors the proxy-wasm host raises. A trap, abort or proc_exit inside a
 * module call marks the VM failed, as Envoy does (docs/ENVOY.md "What
 * Envoy does when a running module crashes"); the message follows Envoy's
 * crash log line: `Function: proxy_on_request_headers failed: Uncaught
 * RuntimeError: unreachable` (proxy-wasm-cpp-host src/v8/v8.cc getFailMessage).
 */
import { ModuleError } from "../../errors";

/** A module call trapped (or threw through the host); the VM is failed from now on. */
export class WasmTrapError extends ModuleError {
  /** The export that was running, e.g. `proxy_on_request_headers`. */
  readonly callback: string;
  /** The engine's own description, e.g. `RuntimeError: unreachable`. */
  readonly detail: string;

  constructor(callback: string, detail: string, options?: { cause?: unknown }) {
    super("MODULE_REJECTED", `Function: ${callback} failed: Uncaught ${detail}`, options);
    this.callback = callback;
    this.detail = detail;
  }
}

/** The module called WASI proc_exit (AssemblyScript's abort does this); the VM is failed. */
export class WasmExitError extends WasmTrapError {
  readonly exitCode: number;

  constructor(callback: string, exitCode: number) {
    super(callback, `proc_exit(${exitCode})`);
    this.exitCode = exitCode;
  }
}

/** A call on a VM that already failed; carries the original failure as cause. */
export class VmFailedError extends ModuleError {
  /** The trap, or the initialization failure (bad signature, missing malloc), that failed the VM. */
  readonly failure: ModuleError;

  constructor(failure: ModuleError) {
    super("MODULE_REJECTED", `Wasm VM failed earlier: ${failure.message}`, { cause: failure });
    this.failure = failure;
  }
}

/**
 * Thrown by the WASI proc_exit import to unwind the wasm stack; the call
 * guard turns it into a WasmExitError. Not exported from the folder.
 */
export class ProcExitSignal extends Error {
  constructor(readonly exitCode: number) {
    super(`proc_exit(${exitCode})`);
    this.name = "ProcExitSignal";
  }
}
