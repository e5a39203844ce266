/**
 * The path from a config folder to what Envoys are served: load and validate
 * the YAML, resolve every module (files, and `url:` modules fetched once into
 * the store), check each new module version, build the resources, and
 * publish one snapshot. Any failure leaves the running snapshot untouched: a
 * control plane must never push what it has not validated.
 */
import { basename } from "node:path";
import { type LoadedConfig, loadConfig } from "../config";
import { Snapshot } from "../cache/snapshot";
import type { SnapshotCache } from "../cache/snapshot-cache";
import { ConfigError, WasmxdsError, errorMessage } from "../errors";
import type { Logger } from "../logger";
import { type ModuleBytes, type ModuleServerAddress, buildResources } from "../resources";
import type { ModuleStore } from "../wasm/module-store";
import type { RemoteModuleResolver } from "../wasm/remote-fetch";
import type { FilterConfig } from "../config/model";
import { Emitter } from "../emitter";
import type { RolloutDecision } from "../rollout/decisions";
import { type ServedFilter, settingsOf } from "../config/filter-version";
import { versionKey } from "../vocabulary/version-key";
import type { RolloutSplit, SelectionReason, VersionSelection } from "./policies";
import { checkRemovals } from "./removal-guard";
import { pullOciModule } from "./oci-modules";
import type { OciResolver } from "../wasm/oci";

/** Verdict of a module check (the pre-flight check in V8). */
export type ModuleVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Checks one filter's module before it may be published. */
export type ModuleChecker = (filter: FilterConfig, module: ModuleBytes) => Promise<ModuleVerdict>;

export interface PublisherOptions {
  readonly configDir: string;
  readonly cache: SnapshotCache;
  readonly store: ModuleStore;
  readonly resolver: RemoteModuleResolver;
  /** Pulls `oci://` modules (docs/OCI.md); unset: such filters fail to resolve. */
  readonly oci?: Pick<OciResolver, "resolve">;
  /** Where the module server listens (for remote DataSource URLs). */
  readonly moduleServer: ModuleServerAddress;
  readonly logger: Logger;
  readonly checkModule?: ModuleChecker;
  /** Health: the version each filter may serve (the last known-good one for a quarantined candidate). */
  readonly selection?: VersionSelection;
  /** Modules to keep in the store even when unused (known-good versions). */
  readonly pinnedModules?: () => Iterable<string>;
  /** Rollouts: what nodes outside and inside a filter's rollout run; its decisions are in PublishedState.decisions. */
  readonly rollouts?: Pick<RolloutSplit, "split">;
  /** Called after every successful rebuild, changed or not (the pipeline applies decisions and refreshes groups). */
  readonly onPublished?: (state: PublishedState) => void;
  /** `--allow-empty`: publish versions that remove every listener or cluster, or most (removal-guard.ts). */
  readonly allowEmpty?: boolean;
}

export type PublisherEvent =
  | { readonly kind: "module-changed"; readonly filter: string; readonly from?: string; readonly to: string }
  | { readonly kind: "warning"; readonly message: string }
  | { readonly kind: "fallback"; readonly filter: string; readonly quarantined: string; readonly serving: string }
  | {
      readonly kind: "published";
      readonly version: string;
      readonly changedTypes: readonly string[];
      readonly modules: ReadonlyMap<string, string>;
    }
  | { readonly kind: "rejected"; readonly stage: "config" | "module" | "snapshot"; readonly message: string; readonly keptVersion?: string };

export type PublishResult =
  | { readonly ok: true; readonly snapshot: Snapshot; readonly changedTypes: readonly string[]; readonly loaded: LoadedConfig }
  | { readonly ok: false; readonly error: WasmxdsError | Error; readonly stage: "config" | "module" | "snapshot" };

export interface PublishedState {
  readonly snapshot: Snapshot;
  readonly loaded: LoadedConfig;
  /** Module sha256 per filter name, as served. */
  readonly modules: ReadonlyMap<string, string>;
  /** What each filter serves (module and settings, after any fallback). */
  readonly served: ReadonlyMap<string, ServedFilter>;
  /** During a rollout, what the filter's rollout nodes run instead. */
  readonly canaries: ReadonlyMap<string, ServedFilter>;
  /** Per filter, the folder's version and how health selection treated it (explain). */
  readonly selections: ReadonlyMap<string, { readonly candidate: ServedFilter; readonly reason: SelectionReason }>;
  /** What the rollouts decided in this rebuild, applied by the pipeline once published. */
  readonly decisions: readonly RolloutDecision[];
}

export class Publisher {
  readonly events = new Emitter<PublisherEvent>();
  private current: PublishedState | undefined;
  private running: Promise<PublishResult> | undefined;
  /** The module sha256 last seen per filter (published or not), to report changes once. */
  private lastSeen = new Map<string, string>();
  private again = false;

  constructor(private readonly options: PublisherOptions) {}

  /** The last published snapshot, the config it came from and each filter's module sha256. */
  get published(): PublishedState | undefined {
    return this.current;
  }

  /**
   * Rebuilds from the folder and publishes. Calls made while a rebuild runs
   * are coalesced into one more rebuild after it.
   */
  async reload(): Promise<PublishResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let result: PublishResult;
      do {
        this.again = false;
        result = await this.rebuild();
      } while (this.again);
      return result;
    })();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async rebuild(): Promise<PublishResult> {
    const { logger } = this.options;
    let loaded: LoadedConfig;
    try {
      loaded = await loadConfig(this.options.configDir);
      checkRemovals(this.current?.loaded.config, loaded.config, {
        fileName: basename(loaded.file),
        ...(this.options.allowEmpty !== undefined && { allowEmptyFlag: this.options.allowEmpty }),
      });
    } catch (err) {
      return this.fail("config", err);
    }
    for (const w of loaded.warnings) this.warn(w);
    let served: Map<string, ServedFilter>;
    const canaries = new Map<string, ServedFilter>();
    const selections = new Map<string, { candidate: ServedFilter; reason: SelectionReason }>();
    const decisions: RolloutDecision[] = [];
    try {
      served = await this.resolveModules(loaded, selections);
      if (this.options.rollouts) {
        for (const [name, chosen] of served) {
          const r = this.options.rollouts.split(chosen);
          served.set(name, r.base);
          if (r.canary) canaries.set(name, r.canary);
          if (r.decision) decisions.push(r.decision);
        }
      }
    } catch (err) {
      return this.fail("module", err);
    }
    const modules = new Map([...served].map(([name, s]) => [name, s.module]));
    // Fallbacks may serve older settings than the folder's.
    const config = { ...loaded.config, filters: loaded.config.filters.map((f) => served.get(f.name)?.filter ?? f) };
    let snapshot: Snapshot;
    try {
      const resources = buildResources({ config, modules, moduleServer: this.options.moduleServer });
      snapshot = Snapshot.create(resources, this.current?.snapshot);
      this.options.cache.setDefaultSnapshot(snapshot);
    } catch (err) {
      return this.fail("snapshot", err);
    }
    const changedTypes = snapshot.changedTypes(this.current?.snapshot);
    const previous = this.current;
    const shas = new Map([...modules].map(([name, m]) => [name, m.sha256]));
    if (changedTypes.length > 0) this.events.emit({ kind: "published", version: snapshot.version, changedTypes, modules: shas });
    this.current = { snapshot, loaded, modules: shas, served, canaries, selections, decisions };
    this.options.onPublished?.(this.current);
    const before = previous ? [...previous.loaded.modules.values(), ...[...previous.modules.values()].map((sha256) => ({ sha256 }))] : [];
    await this.collectModules(modules, before);
    if (changedTypes.length > 0) {
      logger.info("published configuration", { version: snapshot.version, changed: changedTypes.map(shortType) });
    }
    return { ok: true, snapshot, changedTypes, loaded };
  }

  /** Every filter's module: files from the folder, `url:` modules via the store. All are checked. */
  private async resolveModules(loaded: LoadedConfig, selections: Map<string, { candidate: ServedFilter; reason: SelectionReason }>): Promise<Map<string, ServedFilter>> {
    const out = new Map<string, ServedFilter>();
    const before = this.lastSeen;
    this.lastSeen = new Map(before);
    for (const filter of loaded.config.filters) {
      let mod: ModuleBytes;
      const file = loaded.modules.get(filter.name);
      if (file) {
        mod = { sha256: file.sha256, bytes: file.bytes };
      } else if (filter.module.type === "url") {
        const stored = await this.options.resolver.resolve(filter.module.url, filter.module.sha256, {
          allowPrivateFetch: loaded.config.server.allowPrivateFetch ?? false,
          insecure: filter.module.insecure ?? false,
          ...(loaded.config.server.maxModuleBytes !== undefined && { maxBytes: loaded.config.server.maxModuleBytes }),
        });
        const bytes = this.options.store.get(stored.sha256);
        if (!bytes) throw new WasmxdsError("MODULE_FETCH_FAILED", `filter "${filter.name}": module ${stored.sha256} vanished from the store`);
        mod = { sha256: stored.sha256, bytes };
      } else if (filter.module.type === "oci") {
        const pulled = await pullOciModule(filter, filter.module, loaded, this.options.oci, this.options.store);
        if (pulled.warning !== undefined) this.warn(pulled.warning);
        mod = pulled.module;
      } else if (filter.module.type === "host") {
        // hostPath without a copy: only the Envoy hosts have the bytes (docs/CONFIG.md "hostPath"); nothing to check or store.
        mod = { sha256: filter.module.sha256, bytes: new Uint8Array(0) };
      } else {
        throw new WasmxdsError("MODULE_INVALID", `filter "${filter.name}": module was not loaded`);
      }
      const seen = before.get(filter.name);
      if (seen !== mod.sha256) {
        this.lastSeen.set(filter.name, mod.sha256);
        this.events.emit({ kind: "module-changed", filter: filter.name, ...(seen !== undefined && { from: seen }), to: mod.sha256 });
      }
      const candidate: ServedFilter = { filter, module: mod, key: versionKey(mod.sha256, settingsOf(filter)) };
      const selected = this.options.selection?.select(candidate, this.current?.served.get(filter.name)) ?? { served: candidate, reason: "candidate" as const };
      const chosen = selected.served;
      selections.set(filter.name, { candidate, reason: selected.reason });
      if (chosen.key !== candidate.key) {
        this.events.emit({ kind: "fallback", filter: filter.name, quarantined: candidate.module.sha256, serving: chosen.module.sha256 });
      }
      const hostOnly = chosen.module.bytes.length === 0 && chosen.filter.hostPath !== undefined;
      if (this.options.checkModule && filter.preflight && !hostOnly) {
        const verdict = await this.options.checkModule(chosen.filter, chosen.module);
        if (!verdict.ok) {
          throw new WasmxdsError("MODULE_REJECTED", `filter "${filter.name}": module ${chosen.module.sha256.slice(0, 8)} rejected: ${verdict.reason}`);
        }
      }
      if (!hostOnly) await this.options.store.put(chosen.module.bytes);
      out.set(filter.name, chosen);
    }
    return out;
  }

  /** Keeps the modules of the current and the previous config (Envoys may still fetch those); drops the rest. */
  private async collectModules(current: Map<string, ModuleBytes>, previous: readonly { sha256: string }[]): Promise<void> {
    const keep = new Set([
      ...[...current.values()].map((m) => m.sha256),
      ...[...(this.current?.canaries.values() ?? [])].map((c) => c.module.sha256),
      ...previous.map((m) => m.sha256),
      ...(this.options.pinnedModules?.() ?? []),
    ]);
    const removed = await this.options.store.retainOnly(keep);
    if (removed.length > 0) this.options.logger.debug("dropped unused modules", { modules: removed });
  }

  private warn(message: string): void {
    this.options.logger.warn(message);
    this.events.emit({ kind: "warning", message });
  }

  private fail(stage: "config" | "module" | "snapshot", err: unknown): PublishResult {
    const error = err instanceof Error ? err : new Error(String(err));
    this.events.emit({
      kind: "rejected",
      stage,
      message: err instanceof ConfigError ? err.issues.join("\n") : errorMessage(err),
      ...(this.current && { keptVersion: this.current.snapshot.version }),
    });
    const kept = this.current ? `keeping version ${this.current.snapshot.version}` : "nothing is served yet";
    if (err instanceof ConfigError) {
      this.options.logger.error(`configuration rejected (${kept})`, { errors: err.issues });
    } else {
      this.options.logger.error(`${stage} rejected (${kept}): ${errorMessage(err)}`);
    }
    return { ok: false, error, stage };
  }
}

function shortType(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf(".") + 1);
}
