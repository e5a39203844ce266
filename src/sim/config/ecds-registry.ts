/**
 * ECDS in a simulated node (Envoy's FilterConfigSubscription and
 * DynamicFilterConfigProviderImpl, source/common/filter/config_discovery_impl.cc,
 * Envoy 1.33 and main; docs/ENVOY.md "ECDS"):
 * - one subscription per filter config name and filter kind; the ADS
 *   subscription watches the union of names (not a wildcard type, so a
 *   response without a name leaves that config alone);
 * - a config whose typed_config hashes the same as the last one received
 *   is skipped and ACKed, even when that last one was NACKed: Envoy records
 *   the hash before the filter factory runs (docs/ENVOY.md "ECDS hash skip");
 * - the config's type URL must be one the referring filter accepts:
 *   `Error: filter config has type URL <got> but expect <urls>.` (checked
 *   before the hash is recorded, so a re-push of it is rejected again);
 * - a wasm config is built at once and replaces the previous one at once.
 *   Inline code (or a cache hit) that fails rejects it with `Unable to
 *   create Wasm plugin <name>`. Remote code not cached is fetched only if a
 *   warming listener refers to the config (its init manager runs the
 *   fetch and the listener waits); on listeners that have all warmed the
 *   fetch never starts and the filter is left out of the chain, with no
 *   NACK (docs/ENVOY.md "Remote code over ECDS");
 * - stats `extension_config_discovery.<http_filter|network_filter>.<name>.config_reload`
 *   and `.config_fail`; a rejected update fails every subscription of the
 *   type (GrpcMuxImpl calls onConfigUpdateFailed on every watch), which also
 *   ends their warming, as does the initial fetch timeout (default 15 s),
 *   which counts `init_fetch_timeout` and `config_fail`.
 */
import type { TypedExtensionConfig__Output } from "../../generated/envoy/config/core/v3/TypedExtensionConfig";
import type { PluginConfig__Output } from "../../generated/envoy/extensions/wasm/v3/PluginConfig";
import type { Any__Output } from "../../generated/google/protobuf/Any";
import { errorMessage } from "../../errors";
import { decodeMessage, messageNameOf } from "../../proto/registry";
import { EXTENSION_TYPE_URLS } from "../../vocabulary/type-urls";
import type { Clock, TimerHandle } from "../../time/clock";
import type { StatsStore } from "../stats/stats-store";
import { readPluginSpec } from "../wasm/plugin-spec";
import type { WasmPlugin } from "../wasm/wasm-plugin";
import type { WasmRuntime } from "../wasm/wasm-runtime";
import type { ApplyResult } from "../xds/xds-client";

export type FilterKind = "http" | "network";

/** A filter config served over ECDS: a wasm plugin, or another filter the simulator passes through. */
export interface EcdsConfig {
  readonly typeUrl: string;
  readonly plugin: WasmPlugin | undefined;
}

export interface EcdsReference {
  readonly kind: FilterKind;
  readonly name: string;
  readonly typeUrls: readonly string[];
  readonly initialFetchTimeoutMs: number;
}

interface Entry {
  readonly kind: FilterKind;
  readonly name: string;
  typeUrls: Set<string>;
  current: EcdsConfig | undefined;
  /** typed_config (type URL and bytes) of the last config received and past the type check, to skip an identical one. */
  lastKey: string | undefined;
  initialized: boolean;
  timer: TimerHandle | undefined;
}

const WASM_TYPE: Readonly<Record<FilterKind, string>> = { http: EXTENSION_TYPE_URLS.httpWasm, network: EXTENSION_TYPE_URLS.networkWasm };

export class EcdsRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly stats: StatsStore,
    private readonly clock: Clock,
    private readonly wasm: WasmRuntime,
    /** Something became ready or changed: re-check warming listeners. */
    private readonly changed: () => void,
    /** True when a listener that has not warmed yet refers to this filter config (its init manager still runs targets). */
    private readonly warmingReference: (kind: FilterKind, name: string) => boolean,
  ) {}

  /** Names for the ADS ECDS subscription. */
  names(): string[] {
    return [...new Set([...this.entries.values()].map((e) => e.name))];
  }

  /** Declares what the node's listeners refer to; drops the rest. */
  setReferences(refs: readonly EcdsReference[]): void {
    const wanted = new Map<string, EcdsReference[]>();
    for (const r of refs) wanted.set(key(r.kind, r.name), [...(wanted.get(key(r.kind, r.name)) ?? []), r]);
    for (const [k, e] of this.entries) {
      if (wanted.has(k)) continue;
      e.timer?.cancel();
      e.current?.plugin?.release();
      this.entries.delete(k);
    }
    for (const [k, list] of wanted) {
      const first = list[0] as EcdsReference;
      let e = this.entries.get(k);
      if (!e) {
        e = { kind: first.kind, name: first.name, typeUrls: new Set(), current: undefined, lastKey: undefined, initialized: false, timer: undefined };
        this.entries.set(k, e);
        const prefix = this.prefix(e);
        this.stats.declareCounter(`${prefix}config_reload`);
        this.stats.declareCounter(`${prefix}config_fail`);
        const timeout = Math.min(...list.map((r) => r.initialFetchTimeoutMs));
        if (timeout > 0) e.timer = this.clock.setTimeout(() => this.timedOut(k), timeout);
      }
      e.typeUrls = new Set(list.flatMap((r) => r.typeUrls));
    }
  }

  /** Ready for a listener to serve: a config arrived (and any fetch it started ended), or waiting was given up. */
  isReady(kind: FilterKind, name: string): boolean {
    const e = this.entries.get(key(kind, name));
    return e?.initialized === true && e.current?.plugin?.loading !== true;
  }

  config(kind: FilterKind, name: string): EcdsConfig | undefined {
    return this.entries.get(key(kind, name))?.current;
  }

  /** Every wasm plugin currently serving (tests and the summary look at them). */
  plugins(): WasmPlugin[] {
    return [...this.entries.values()].flatMap((e) => (e.current?.plugin ? [e.current.plugin] : []));
  }

  apply(resources: readonly Any__Output[]): ApplyResult {
    const errors: string[] = [];
    for (const any of resources) {
      const tec = decodeMessage<TypedExtensionConfig__Output>("envoy.config.core.v3.TypedExtensionConfig", any.value);
      for (const kind of ["http", "network"] as const) {
        const e = this.entries.get(key(kind, tec.name));
        if (!e) continue;
        try {
          this.update(e, tec);
        } catch (err) {
          errors.push(errorMessage(err));
        }
      }
    }
    this.changed();
    return errors.length === 0 ? { ok: true } : { ok: false, message: errors[0] as string };
  }

  /** The ECDS update was NACKed: every subscription counts a failure and stops waiting. */
  rejected(): void {
    for (const e of this.entries.values()) {
      this.stats.inc(`${this.prefix(e)}config_fail`);
      this.finishInit(e);
    }
    this.changed();
  }

  close(): void {
    this.setReferences([]);
  }

  private update(e: Entry, tec: TypedExtensionConfig__Output): void {
    const typeUrl = tec.typed_config?.type_url ?? "";
    const bytes = tec.typed_config?.value ?? Buffer.alloc(0);
    const configKey = `${typeUrl}\n${Buffer.from(bytes).toString("base64")}`;
    // Same hash as the last config received: skipped (and ACKed), whatever became of that one.
    if (configKey === e.lastKey) return;
    if (!e.typeUrls.has(typeUrl)) {
      throw new Error(`Error: filter config has type URL ${typeUrl} but expect ${[...e.typeUrls].join(", ")}.`);
    }
    // Recorded before the filter factory runs: a config that fails below is still "the last one".
    e.lastKey = configKey;
    let config: EcdsConfig;
    if (typeUrl === WASM_TYPE[e.kind]) {
      const wasm = decodeMessage<{ config: PluginConfig__Output | null }>(messageNameOf(typeUrl), bytes);
      const init = this.warmingReference(e.kind, e.name) ? "initializing" : "initialized";
      config = { typeUrl, plugin: this.wasm.createPlugin(readPluginSpec(e.kind, wasm.config), init) };
    } else {
      config = { typeUrl, plugin: undefined };
    }
    this.stats.inc(`${this.prefix(e)}config_reload`);
    e.current?.plugin?.release();
    e.current = config;
    this.finishInit(e);
  }

  private timedOut(k: string): void {
    const e = this.entries.get(k);
    if (!e || e.initialized) return;
    e.timer = undefined;
    // GrpcSubscriptionImpl counts init_fetch_timeout, then calls onConfigUpdateFailed,
    // where FilterConfigSubscription counts config_fail (docs/ENVOY.md "ECDS initial fetch timeout").
    this.stats.inc(`${this.prefix(e)}init_fetch_timeout`);
    this.stats.inc(`${this.prefix(e)}config_fail`);
    this.finishInit(e);
    this.changed();
  }

  private finishInit(e: Entry): void {
    e.initialized = true;
    e.timer?.cancel();
    e.timer = undefined;
  }

  private prefix(e: Entry): string {
    return `extension_config_discovery.${e.kind === "http" ? "http_filter" : "network_filter"}.${e.name}.`;
  }
}

function key(kind: FilterKind, name: string): string {
  return `${kind}\n${name}`;
}
