/**
 * Everything wasm in one simulated node, and Envoy's createWasm decision
 * between loading now, fetching, and rejecting
 * (source/extensions/common/wasm/wasm.cc, Envoy 1.33 and main;
 * docs/ENVOY.md "What Envoy does when a module is bad", "Remote code cache" and
 * "Remote code over ECDS"):
 * - inline code, or remote code already in the node's cache: load, ABI
 *   check, on_vm_start and on_configure happen now; any failure throws
 *   `Unable to create Wasm plugin <name>`, which NACKs the update;
 * - remote code not cached, default: the update is accepted and the fetch
 *   is registered with the init manager of whatever creates the filter
 *   config (RemoteAsyncDataProvider). A new listener's manager runs it
 *   (retries, sha256 check) and the listener waits for it; if it fails, or
 *   the module does not start, the filter fails closed or open per
 *   failure_policy, with no NACK. The manager of a listener that already
 *   warmed (an ECDS update) has finished: the fetch never starts, the
 *   filter has no VM and is left out of the chain, and the cache entry
 *   stays "in progress";
 * - the same sha256 in progress or negatively cached is not a NACK either:
 *   the plugin has no VM meanwhile (fails closed or open) and a new fetch
 *   is registered the same way;
 * - with nack_on_code_cache_miss, anything but a hit is rejected while a
 *   one-attempt fetch (RemoteDataFetcher, no init manager) fills the cache
 *   for the next push.
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
import { type SimHost, readHostFile } from "./host-disk";
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
  /** The Envoy host's disk and environment (host-disk.ts); unset: filenames as given, no host environment. */
  readonly host?: SimHost;
  resolveCluster(name: string): Endpoint | undefined;
  /** Called when a plugin finished loading asynchronously. */
  onPluginLoaded(plugin: WasmPlugin): void;
}

const EMPTY = new Uint8Array(0);

/** The state of the init manager that a remote fetch would be registered with. */
export type InitManagerState = "initializing" | "initialized";

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

  /**
   * Creates the plugin, or throws Envoy's rejection message. `init` is the
   * state of the init manager of what creates the filter config: a new
   * listener's ("initializing", it will run a fetch and wait for it) or a
   * warmed listener's ("initialized", a fetch registered there never starts).
   */
  createPlugin(declared: PluginSpec, init: InitManagerState): WasmPlugin {
    const { stats, clock, random, logger } = this.o;
    const spec = this.onHost(declared);
    const plugin = new WasmPlugin(spec, { vms: this.vms, stats, clock, random, logger });
    if (!this.o.enabled) {
      plugin.disable();
      return plugin;
    }
    const unable = () => new ModuleError("MODULE_REJECTED", `Unable to create Wasm plugin ${spec.name}`);
    const code = spec.code;
    // onHost has read it by now (enabled); kept for the type.
    if (code.kind === "file") throw unable();
    if (code.kind === "local") {
      if (!plugin.complete(vmKey(spec.vmId, spec.vmConfiguration, code.bytes), code.bytes)) throw unable();
      return plugin;
    }
    const lookup = this.codeCache.lookup(code.sha256);
    if (lookup.kind === "hit") {
      if (!plugin.complete(vmKey(spec.vmId, spec.vmConfiguration, lookup.code), lookup.code)) throw unable();
      return plugin;
    }
    for (const reason of lookup.unavailable) {
      logger.warn(`createWasm: failed to load (${reason}) from ${code.uri}`, { plugin: spec.name });
      plugin.unavailable(`Failed to load Wasm code (${reason})`);
    }
    const fetchEnv = { clock: this.o.clock, random: this.o.random, resolveCluster: (n: string) => this.o.resolveCluster(n) };
    if (code.nackOnCacheMiss) {
      // One attempt, no retries, no init manager (Envoy's RemoteDataFetcher used directly).
      fetchOnce(code, fetchEnv).then(
        (r) => this.codeCache.complete(code.sha256, r.ok ? r.body : EMPTY),
        () => this.codeCache.complete(code.sha256, EMPTY),
      );
      throw unable();
    }
    if (init === "initialized") {
      // ManagerImpl::add on an initialized manager only ASSERTs: the target never runs.
      logger.debug("remote Wasm code fetch never starts: the listener has already warmed", { plugin: spec.name, uri: code.uri });
      return plugin;
    }
    // The VM key is made now, before the code is known: docs/ENVOY.md "VM identity".
    const key = vmKey(spec.vmId, spec.vmConfiguration, EMPTY);
    plugin.startFetch();
    const handle = fetchWithRetries(code, fetchEnv, (bytes, failure) => {
      this.fetches.delete(handle);
      this.codeCache.complete(code.sha256, bytes);
      if (failure) logger.warn("Failed to load Wasm code (fetch failed)", { uri: code.uri, reason: failure });
      plugin.complete(key, bytes);
      this.o.onPluginLoaded(plugin);
    });
    this.fetches.add(handle);
    return plugin;
  }

  /**
   * The spec with what the host supplies: host keys valued from the host
   * environment after the fixed values (a key the host lacks is left out),
   * as WasmConfig merges them (extensions/common/wasm/plugin.cc); a local
   * filename read from the host disk now, when Envoy's createWasm reads it
   * (DataSource::read), so a missing file rejects the update.
   */
  private onHost(spec: PluginSpec): PluginSpec {
    const host = this.o.host;
    let out = spec;
    if (spec.hostEnvKeys.length > 0) {
      const environment: Record<string, string> = { ...spec.environment };
      for (const key of spec.hostEnvKeys) {
        const value = host?.env && Object.hasOwn(host.env, key) ? host.env[key] : undefined;
        if (value !== undefined) environment[key] = value;
      }
      out = { ...out, environment };
    }
    if (spec.code.kind === "file" && this.o.enabled) {
      const read = readHostFile(host, spec.code.filename);
      if ("error" in read) throw new ModuleError("MODULE_REJECTED", read.error);
      out = { ...out, code: { kind: "local", bytes: read.bytes } };
    }
    return out;
  }

  /** Stops pending fetches (node shutdown). */
  close(): void {
    for (const f of this.fetches) f.cancel();
    this.fetches.clear();
  }
}
