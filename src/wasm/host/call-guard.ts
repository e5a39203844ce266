/**
 * The execution state of calls into a module: which context is current
 * (and which one proxy_set_effective_context chose), how deep calls are
 * nested, which host functions are currently allowed, and whether the VM
 * has failed. Any exception escaping a module call (a trap, proc_exit, a
 * stack overflow, an error thrown by a host function) fails the VM for good,
 * as proxy-wasm-cpp-host does with fail(FailState::RuntimeError, ...)
 * (src/v8/v8.cc getModuleFunctionImpl); the saved context is restored
 * after every call like its SaveRestoreContext.
 */
import { ModuleError } from "../../errors";
import type { ContextState } from "./context-state";
import { ProcExitSignal, VmFailedError, WasmExitError, WasmTrapError } from "./errors";
import type { Restriction } from "./linker";

export class CallGuard {
  current: ContextState;
  effectiveId = 0;
  depth = 0;
  readonly restriction: Restriction = { allowed: undefined };
  private failure_: ModuleError | undefined;

  constructor(
    vmContext: ContextState,
    private readonly onFailure: (failure: ModuleError) => void,
  ) {
    this.current = vmContext;
  }

  get failure(): ModuleError | undefined {
    return this.failure_;
  }

  assertHealthy(): void {
    if (this.failure_) throw new VmFailedError(this.failure_);
  }

  /** Runs `thunk` (a call into the module named `name`) with `ctx` as the current context. */
  run<T>(name: string, ctx: ContextState, thunk: () => T): T {
    this.assertHealthy();
    const saved = [this.current, this.effectiveId] as const;
    this.current = ctx;
    this.effectiveId = 0;
    this.depth++;
    try {
      return thunk();
    } catch (err) {
      throw this.fail(name, err);
    } finally {
      [this.current, this.effectiveId] = saved;
      this.depth--;
    }
  }

  /** Runs `thunk` with only `allowed` host functions callable (Envoy's setRestrictedCallback). */
  restricted<T>(allowed: ReadonlySet<string>, thunk: () => T): T {
    const previous = this.restriction.allowed;
    this.restriction.allowed = allowed;
    try {
      return thunk();
    } finally {
      this.restriction.allowed = previous;
    }
  }

  /** Records the first failure and returns the error to throw for this one. */
  fail(name: string, err: unknown): ModuleError {
    if (err instanceof VmFailedError) return err;
    const failure =
      err instanceof ModuleError
        ? err
        : err instanceof ProcExitSignal
          ? new WasmExitError(name, err.exitCode)
          : err instanceof Error
            ? new WasmTrapError(name, `${err.name}: ${err.message}`, { cause: err })
            : new WasmTrapError(name, String(err));
    if (this.failure_ === undefined) {
      this.failure_ = failure;
      this.onFailure(failure);
    }
    return failure;
  }
}
