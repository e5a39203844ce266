/**
 * The dynamic part of the pre-flight check, on an already created VM: what
 * Envoy's canary run does before it accepts a plugin (proxy-wasm-cpp-host
 * src/wasm.cc createWasm: start the VM, start the root context with
 * on_vm_start, then on_configure), optionally followed by smoke traffic.
 * Runs inside the pre-flight worker, but has no worker code of its own so
 * it can be tested directly.
 */
import { errorMessage } from "../../errors";
import type { ProxyWasmVm } from "../host/vm";
import { smokeHttp, smokeNetwork } from "./smoke";
import type { PreflightStage } from "./types";

export type LifecycleStage = Extract<PreflightStage, "start" | "configure" | "smoke">;

export interface LifecycleOptions {
  readonly kind: "http" | "network";
  readonly smoke: boolean;
  readonly maxMemoryBytes: number;
}

export type LifecycleOutcome = { ok: true } | { ok: false; stage: LifecycleStage; reason: string };

class StepFailure extends Error {
  constructor(
    readonly stage: LifecycleStage,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function runLifecycle(
  vm: ProxyWasmVm,
  opts: LifecycleOptions,
  onStep: (stage: LifecycleStage, step: string) => void = () => {},
): LifecycleOutcome {
  const runner = (stage: LifecycleStage) => (step: string, fn: () => void) => {
    onStep(stage, step);
    try {
      fn();
    } catch (err) {
      throw new StepFailure(stage, errorMessage(err));
    }
    if (vm.memoryBytes > opts.maxMemoryBytes) {
      throw new StepFailure(
        stage,
        `module memory reached ${vm.memoryBytes} bytes after ${step}, over the limit of ${opts.maxMemoryBytes} bytes`,
      );
    }
  };
  const start = runner("start");
  const configure = runner("configure");
  try {
    start("start", () => vm.start());
    start("proxy_on_context_create", () => vm.createRootContext());
    start("proxy_on_vm_start", () => {
      if (!vm.onVmStart()) throw new Error("proxy_on_vm_start returned false (Envoy: Failed to start base Wasm)");
    });
    configure("proxy_on_configure", () => {
      if (!vm.onConfigure()) {
        throw new Error("proxy_on_configure returned false (Envoy: Failed to configure base Wasm plugin)");
      }
    });
    if (opts.smoke) {
      const smoke = runner("smoke");
      if (opts.kind === "http") smokeHttp(vm, smoke);
      else smokeNetwork(vm, smoke);
      if (vm.tickPeriodMs > 0) smoke("proxy_on_tick", () => vm.tick());
    }
    return { ok: true };
  } catch (err) {
    if (err instanceof StepFailure) return { ok: false, stage: err.stage, reason: err.reason };
    throw err;
  }
}
