/**
 * Everything wasm in one simulated node, and Envoy's createWasm decision
 * between loading now and loading later (source/extensions/common/wasm/wasm.cc;
 * ENVOY-NOTES "What Envoy does when a module is bad"):
 * - inline code, or remote code already in the node's cache: load, ABI
 *   check, on_vm_start and on_configure happen now; any failure throws
 *   `Unable to create Wasm plugin <name>`, which NACKs the update;
 * - remote code not cached: the update is accepted and the code fetched
 *   (retries, sha256 check); if that fails, or the module does not start,
 *   the filter fails closed or open per failure_policy, with no NACK;
 * - with nack_on_code_cache_miss the miss itself is rejected while the
 *   fetch fills the cache in the background for the next push.
 * With `enabled: false` (benchmarks) no code is fetched or compiled and
 * every wasm filter is passed through.
 */
import { ModuleError } from "../../errors";
import type { Logger } from "../../logger";
import { MetricRegistry, SharedState } from "../../wasm/host";
import type { Random } from "../backoff";
import type { Clock } from "../../time/clock";
import type { Endpoint } from "../config/proto-util";
import type { StatsStore } from "../stats/stats-store";
import type { PluginSpec } from "./plugin-spec";
import { RemoteCodeCache } from "./remote-code-cache";
import { fetchOnce, fetchWithRetries } from "./remote-fetch";
import { VmRegistry, vmKey } from "./vm-registry";
import { WasmPlugin } from "./wasm-plugin";

export interface WasmRuntimeOptions {
  readonly enabled: boolean;
  readonly stats: StatsStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly properties: Readonly<Record<string, string>>;
  resolveCluster(name: string): Endpoint | undefined;
  /** Called when a plugin finished loading asynchronously. */
  onPluginLoaded(plugin: WasmPlugin): void;
}

const EMPTY = new Uint8Array(0);

export class WasmRuntime {
  readonly metrics = new MetricRegistry();
  readonly shared = new SharedState();
  readonly vms: VmRegistry;
  readonly codeCache: RemoteCodeCache;
  private readonly fetches = new Set<{ cancel(): void }>();

  constructor(private readonly o: WasmRuntimeOptions) {
    this.vms = new VmRegistry({
      stats: o.stats,
      clock: o.clock,
      logger: o.logger,
      shared: this.shared,
      metrics: this.metrics,
      properties: o.properties,
    });
    this.codeCache = new RemoteCodeCache(o.stats, o.clock);
  }

  get enabled(): boolean {
    return this.o.enabled;
  }

  /** Creates the plugin, or throws Envoy's rejection message. */
  createPlugin(spec: PluginSpec): WasmPlugin {
    const { stats, clock, random, logger } = this.o;
    const plugin = new WasmPlugin(spec, { vms: this.vms, stats, clock, random, logger });
    if (!this.o.enabled) {
      plugin.disable();
      return plugin;
    }
    const unable = () => new ModuleError("MODULE_REJECTED", `Unable to create Wasm plugin ${spec.name}`);
    const code = spec.code;
    if (code.kind === "local") {
      if (!plugin.complete(vmKey(spec.vmId, spec.vmConfiguration, code.bytes), code.bytes)) throw unable();
      return plugin;
    }
    const lookup = this.codeCache.lookup(code.sha256);
    switch (lookup.kind) {
      case "hit":
        if (!plugin.complete(vmKey(spec.vmId, spec.vmConfiguration, lookup.code), lookup.code)) throw unable();
        return plugin;
      case "in-progress":
        throw new ModuleError("MODULE_REJECTED", `Failed to load WASM code (fetch in progress) from ${code.uri}`);
      case "negative":
        throw new ModuleError("MODULE_REJECTED", `Failed to load WASM code (cached) from ${code.uri}`);
      case "fetch":
        break;
    }
    const fetchEnv = { clock: this.o.clock, random: this.o.random, resolveCluster: (n: string) => this.o.resolveCluster(n) };
    if (code.nackOnCacheMiss) {
      // One attempt, no retries (Envoy's RemoteDataFetcher used directly).
      void fetchOnce(code, fetchEnv).then((r) => this.codeCache.complete(code.sha256, r.ok ? r.body : EMPTY));
      throw unable();
    }
    // The VM key is made now, before the code is known: ENVOY-NOTES "VM identity".
    const key = vmKey(spec.vmId, spec.vmConfiguration, EMPTY);
    const handle = fetchWithRetries(code, fetchEnv, (bytes, failure) => {
      this.fetches.delete(handle);
      this.codeCache.complete(code.sha256, bytes);
      if (failure) this.o.logger.warn("Failed to load Wasm code (fetch failed)", { uri: code.uri, reason: failure });
      plugin.complete(key, bytes);
      this.o.onPluginLoaded(plugin);
    });
    this.fetches.add(handle);
    return plugin;
  }

  /** Stops pending fetches (node shutdown). */
  close(): void {
    for (const f of this.fetches) f.cancel();
    this.fetches.clear();
  }
}
