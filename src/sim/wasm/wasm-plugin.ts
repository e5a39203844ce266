/**
 * One wasm filter config in a simulated node: Envoy's
 * Common::Wasm::PluginConfig (source/extensions/common/wasm/wasm.cc), which
 * decides for each new stream whether the filter runs, is skipped or fails
 * the stream (docs/ENVOY.md "Failure policies" and "Remote code over ECDS"):
 * - no VM yet and none promised (remote code whose fetch has not finished,
 *   or never starts): the filter is left out (createContext returns null);
 * - told there is no VM (Envoy's createWasm callback called with nullptr: a
 *   fetch failure, hash mismatch or start failure, or meanwhile, while the
 *   same sha256 is fetched again): FAIL_OPEN skips the filter, otherwise
 *   the stream fails (503 wasm_fail_stream); a later fetch can still load it;
 * - the worker VM trapped: FAIL_CLOSED fails this and every later stream,
 *   FAIL_OPEN skips the filter, FAIL_RELOAD re-creates the VM from the base
 *   on the next stream unless less than the jittered backoff (base_interval,
 *   default 1 s) has passed since the last load, counting
 *   wasm.<plugin name>.vm_reload_success / _failure / _backoff.
 *   Only runtime failures (traps) are reloaded.
 */
import { errorMessage } from "../../errors";
import type { Logger } from "../../logger";
import { type ProxyWasmVm, WasmTrapError } from "../../wasm/host";
import { JitteredLowerBoundBackOff, type Random } from "../backoff";
import type { Clock, TimerHandle } from "../../time/clock";
import type { StatsStore } from "../stats/stats-store";
import type { PluginSpec } from "./plugin-spec";
import type { BaseVm, VmRegistry } from "./vm-registry";

export type FilterGate = { readonly kind: "skip" } | { readonly kind: "fail" } | { readonly kind: "run"; readonly vm: ProxyWasmVm };

export interface PluginEnvironment {
  readonly vms: VmRegistry;
  readonly stats: StatsStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
}

const SKIP: FilterGate = Object.freeze({ kind: "skip" });
const FAIL: FilterGate = Object.freeze({ kind: "fail" });

export class WasmPlugin {
  /** undefined: loading; null: failed to load; else the base VM. */
  private base: BaseVm | null | undefined;
  /** undefined until loaded; null when the worker VM could not start (Envoy's null plugin handle). */
  private worker: { vm: ProxyWasmVm; lastLoad: number } | null | undefined;
  private tick: TimerHandle | undefined;
  private readonly backoff: JitteredLowerBoundBackOff | undefined;
  private released = false;
  private disabled = false;
  /** A fetch the listener waits for is running (Envoy's RemoteAsyncDataProvider init target). */
  private fetching = false;
  /** Why loading failed, for logs and the summary. */
  loadError: string | undefined;

  constructor(
    readonly spec: PluginSpec,
    private readonly env: PluginEnvironment,
  ) {
    const prefix = `wasm.${spec.name}.`;
    for (const c of ["vm_reload_success", "vm_reload_failure", "vm_reload_backoff"]) env.stats.declareCounter(prefix + c);
    this.backoff = spec.failurePolicy === "FAIL_RELOAD" ? new JitteredLowerBoundBackOff(spec.reloadBaseMs, env.random) : undefined;
  }

  get name(): string {
    return this.spec.name;
  }

  /** True while remote code is being fetched for a listener that waits for it. */
  get loading(): boolean {
    return this.fetching && !this.released && !this.disabled;
  }

  /** A fetch started that the listener's init manager waits for; complete() ends it. */
  startFetch(): void {
    this.fetching = true;
  }

  /**
   * No VM for now (createWasm called back with nullptr while the same
   * sha256 was in progress or negatively cached): the failure policy
   * applies until a fetch completes.
   */
  unavailable(reason: string): void {
    if (this.base === undefined) {
      this.base = null;
      this.loadError = reason;
    }
  }

  /** Wasm is off in this node (benchmarks): no code is loaded and the filter is passed through. */
  disable(): void {
    this.disabled = true;
  }

  /** True when the code could not be loaded (the filter fails closed or open). */
  get failedToLoad(): boolean {
    return this.base === null;
  }

  /** The worker VM, if any (tests inspect its logs). */
  get workerVm(): ProxyWasmVm | undefined {
    return this.worker?.vm;
  }

  /** The sha256 of the code the base VM runs (may be older code on a remote VM-key hit). */
  get runningCodeSha256(): string | undefined {
    return this.base?.codeSha256;
  }

  /**
   * Loads `code` under `key`: base VM (shared by key), canary run, worker
   * VM. False when the code is empty or fails to load or start; the plugin
   * then counts as failed to load.
   */
  complete(key: string, code: Uint8Array): boolean {
    this.fetching = false;
    if (this.released) return false;
    if (code.length === 0) return this.failLoad("Failed to load Wasm code");
    let base: BaseVm;
    try {
      base = this.env.vms.acquireBase(key, code, this.spec);
    } catch (err) {
      return this.failLoad(errorMessage(err));
    }
    try {
      this.env.vms.startPluginVm(base, this.spec);
      this.env.vms.retire(this.spec.runtime);
    } catch (err) {
      this.env.vms.release(base);
      return this.failLoad(errorMessage(err));
    }
    this.base = base;
    this.worker = this.startWorker(base);
    this.armTick();
    return true;
  }

  /** What a new stream gets (Envoy's PluginConfig::createContext). */
  gate(): FilterGate {
    const { base } = this;
    if (base === undefined || this.released) return SKIP;
    if (base === null) return this.spec.failurePolicy === "FAIL_OPEN" ? SKIP : FAIL;
    const worker = this.worker;
    // A worker whose start failed is a null handle in Envoy: the filter is not added at all.
    if (!worker) return SKIP;
    if (worker.vm.failed && worker.vm.failure instanceof WasmTrapError && this.backoff) this.maybeReload(base, worker);
    const vm = this.worker?.vm ?? worker.vm;
    if (vm.failed) return this.spec.failurePolicy === "FAIL_OPEN" ? SKIP : FAIL;
    return { kind: "run", vm };
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.tick?.cancel();
    if (this.worker) this.env.vms.retire(this.spec.runtime);
    if (this.base) this.env.vms.release(this.base);
    this.worker = undefined;
  }

  private maybeReload(base: BaseVm, worker: { vm: ProxyWasmVm; lastLoad: number }): void {
    const prefix = `wasm.${this.spec.name}.`;
    const interval = this.backoff?.nextBackOffMs() ?? 0;
    const now = this.env.clock.now();
    if (now - worker.lastLoad < interval) {
      this.env.stats.inc(`${prefix}vm_reload_backoff`);
      return;
    }
    worker.lastLoad = now;
    try {
      const vm = this.env.vms.startPluginVm(base, this.spec);
      this.env.vms.retire(this.spec.runtime);
      this.worker = { vm, lastLoad: now };
      this.env.stats.inc(`${prefix}vm_reload_success`);
      this.armTick();
    } catch (err) {
      this.env.logger.warn("wasm VM reload failed", { plugin: this.spec.name, error: errorMessage(err) });
      this.env.stats.inc(`${prefix}vm_reload_failure`);
    }
  }

  /**
   * proxy_on_tick on the worker's root context every tick period the module
   * set (proxy_set_tick_period_milliseconds), re-reading the period after
   * each tick; a trap in on_tick fails the VM like any other callback.
   */
  private armTick(): void {
    this.tick?.cancel();
    this.tick = undefined;
    const vm = this.worker?.vm;
    if (!vm || vm.failed || vm.tickPeriodMs <= 0 || this.released) return;
    this.tick = this.env.clock.setTimeout(() => {
      if (this.worker?.vm !== vm || vm.failed) return;
      try {
        vm.tick();
      } catch {
        // The VM is failed now; the failure policy applies to the next stream.
      }
      this.armTick();
    }, vm.tickPeriodMs);
  }

  private startWorker(base: BaseVm): { vm: ProxyWasmVm; lastLoad: number } | null {
    try {
      return { vm: this.env.vms.startPluginVm(base, this.spec), lastLoad: this.env.clock.now() };
    } catch (err) {
      this.env.logger.error("Failed to configure thread-local Wasm plugin", { plugin: this.spec.name, error: errorMessage(err) });
      return null;
    }
  }

  private failLoad(reason: string): false {
    this.base = null;
    this.loadError = reason;
    this.env.logger.error(`Plugin ${this.spec.name} failed to load`, { reason });
    return false;
  }
}
