/**
 * One node's Wasm VMs, as proxy-wasm-cpp-host keeps them for Envoy
 * (src/wasm.cc createWasm, canary, getOrCreateThreadLocalPlugin):
 * - base VMs are shared by key = sha256(vm_id || vm configuration || code);
 *   a plugin whose key matches a live base VM reuses it (docs/ENVOY.md "VM
 *   identity": for remote code the key is made before the fetch, with empty
 *   code, so a new module with the same vm_id can keep the old VM);
 * - every plugin gets a canary run (start, on_vm_start, on_configure) in a
 *   fresh VM from the base, which is then discarded; failures say
 *   "Failed to start base Wasm" / "Failed to configure base Wasm plugin";
 * - the worker (the simulator runs one worker, like `--concurrency 1`)
 *   gets its own VM per plugin, started and configured the same way.
 * `wasm.<runtime>.created` counts every VM made (base, canary, worker,
 * reload) and the gauge `wasm.<runtime>.active` those alive (docs/ENVOY.md
 * "What Envoy does when a running module crashes").
 * Deviation: Envoy runs several plugins sharing a vm_id as root contexts of
 * one worker VM; the host here has one root context per VM, so each plugin
 * gets its own worker VM and a trap fails only that plugin.
 */
import { createHash } from "node:crypto";
import { errorMessage, ModuleError } from "../../errors";
import type { Logger } from "../../logger";
import { type CompiledProxyWasm, type MetricRegistry, ProxyWasmVm, type SharedState } from "../../wasm/host";
import { sha256Hex } from "../../vocabulary/sha256";
import type { Clock } from "../../time/clock";
import type { StatsStore } from "../stats/stats-store";
import { compileCached } from "./compile-cache";
import type { PluginSpec } from "./plugin-spec";

export interface VmEnvironment {
  readonly stats: StatsStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly shared: SharedState;
  readonly metrics: MetricRegistry;
  /** node.id, node.cluster, ... for proxy_get_property. */
  readonly properties: Readonly<Record<string, string>>;
}

export interface BaseVm {
  readonly key: string;
  readonly runtime: string;
  readonly compiled: CompiledProxyWasm;
  /** sha256 of the code the VM actually runs. */
  readonly codeSha256: string;
  /**
   * The environment of the plugin that created the base: every VM made from
   * it gets this one, as Envoy's clones copy envs_ from the base (docs/ENVOY.md
   * "Environment variables"), whatever a later plugin with the same key asked for.
   */
  readonly environment: Readonly<Record<string, string>>;
  refs: number;
  readonly vm: ProxyWasmVm;
}

/** proxy_wasm::makeVmKey: sha256 of vm_id, vm configuration and code joined by "||". */
export function vmKey(vmId: string, vmConfiguration: Uint8Array, code: Uint8Array): string {
  return createHash("sha256").update(vmId).update("||").update(vmConfiguration).update("||").update(code).digest("hex");
}

export class VmRegistry {
  private readonly bases = new Map<string, BaseVm>();

  constructor(private readonly env: VmEnvironment) {}

  /** The live base VM for `key`, else a new one loaded from `code` (throws with the cause). */
  acquireBase(key: string, code: Uint8Array, spec: PluginSpec): BaseVm {
    const existing = this.bases.get(key);
    if (existing) {
      existing.refs++;
      return existing;
    }
    const sha = sha256Hex(code);
    const compiled = compileCached(sha, code);
    const vm = this.newVm(compiled, spec);
    try {
      vm.start();
    } catch (err) {
      this.retire(spec.runtime);
      throw new ModuleError("MODULE_REJECTED", `Failed to initialize Wasm code: ${errorMessage(err)}`, { cause: err });
    }
    const base: BaseVm = { key, runtime: spec.runtime, compiled, codeSha256: sha, environment: spec.environment, refs: 1, vm };
    this.bases.set(key, base);
    return base;
  }

  release(base: BaseVm): void {
    if (--base.refs > 0) return;
    if (this.bases.get(base.key) === base) this.bases.delete(base.key);
    this.retire(base.runtime);
  }

  /** A VM from the base, started and configured for the plugin; throws (and retires it) on failure. */
  startPluginVm(base: BaseVm, spec: PluginSpec): ProxyWasmVm {
    const vm = this.newVm(base.compiled, { ...spec, environment: base.environment });
    try {
      vm.start();
      vm.createRootContext();
      if (!vm.onVmStart()) throw new ModuleError("MODULE_REJECTED", "Failed to start base Wasm");
      if (!vm.onConfigure()) throw new ModuleError("MODULE_REJECTED", "Failed to configure base Wasm plugin");
      return vm;
    } catch (err) {
      this.retire(spec.runtime);
      throw err;
    }
  }

  /** A VM that is gone (canary done, worker replaced or released). */
  retire(runtime: string): void {
    this.env.stats.add(`wasm.${runtime}.active`, -1);
  }

  private newVm(compiled: CompiledProxyWasm, spec: PluginSpec): ProxyWasmVm {
    const { env } = this;
    // Linking happens here; a missing import throws before the VM counts as created.
    const vm = new ProxyWasmVm(compiled, {
      rootId: spec.rootId,
      pluginName: spec.name,
      vmId: spec.vmId,
      vmConfiguration: spec.vmConfiguration,
      pluginConfiguration: spec.pluginConfiguration,
      environment: spec.environment,
      properties: env.properties,
      logger: env.logger.child({ plugin: spec.name }),
      onLog: (line) => env.logger.debug(line.message, { plugin: spec.name, level: line.level, source: line.source }),
      maxLogLines: 20,
      clock: () => BigInt(env.clock.now()) * 1_000_000n,
      shared: env.shared,
      metrics: env.metrics,
    });
    env.stats.inc(`wasm.${spec.runtime}.created`);
    env.stats.add(`wasm.${spec.runtime}.active`, 1);
    return vm;
  }
}
