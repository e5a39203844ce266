/**
 * The config model to the complete set of Envoy resources for one snapshot.
 * Pure and deterministic: resources of each type are sorted by name and every
 * list inside them follows the config's order, so an equal config (and equal
 * modules) gives equal bytes and therefore equal resource versions.
 */
import { type FilterConfig, MODULE_CLUSTER_NAME, type WasmxdsConfig } from "../config/model";
import type { ResourceInput } from "../cache/resource";
import { SnapshotError } from "../errors";
import type { PackedAny } from "./any";
import { buildCluster, usesEds } from "./cluster";
import { buildExtensionConfig, configDiscovery } from "./ecds";
import { loadAssignment } from "./endpoints";
import { failureReports } from "./access-log";
import { type FilterSlot, buildListener } from "./listener";
import { type ModuleServerAddress, buildModuleCluster, moduleServerEndpoint } from "./module-cluster";
import type { ModuleBytes } from "../vocabulary/module";
import { type ResolvedCode, resolveCode } from "./module-code";
import { buildRouteConfiguration } from "./route";
import { TYPE_URLS, type TypeUrl } from "../vocabulary/type-urls";
import { wasmFilterAny } from "./wasm-filter";

export interface BuildInput {
  readonly config: WasmxdsConfig;
  /** Module of each filter, by filter name (see resolveCode for the one exception). */
  readonly modules: ReadonlyMap<string, ModuleBytes>;
  /** Where the module server listens; `server.modulesBaseUrl` in the config wins. */
  readonly moduleServer: ModuleServerAddress;
  /**
   * Re-push attempt per filter name, for the nodes that NACKed a remote-code
   * cache miss (control/group-snapshots.ts); the config differs only in the remote
   * URI's query (wasm-filter.ts REPUSH_QUERY).
   */
  readonly repushes?: ReadonlyMap<string, number>;
}

export type BuiltResources = Record<TypeUrl, ResourceInput[]>;

function message(value: object): Record<string, unknown> {
  return { ...value };
}

function byName(a: ResourceInput, b: ResourceInput): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function buildResources(input: BuildInput): BuiltResources {
  const { config } = input;
  const endpoint = moduleServerEndpoint(config.server, input.moduleServer);

  const wasm = new Map<string, { filter: FilterConfig; code: ResolvedCode; any: PackedAny }>();
  for (const filter of config.filters) {
    const code = resolveCode(filter, input.modules, config.server.maxInlineBytes);
    wasm.set(filter.name, { filter, code, any: wasmFilterAny(filter, code, endpoint, input.repushes?.get(filter.name) ?? 0) });
  }

  const slot = (name: string): FilterSlot => {
    const entry = wasm.get(name);
    if (!entry) throw new SnapshotError("SNAPSHOT_INVALID", `listener refers to unknown filter ${JSON.stringify(name)}`);
    return entry.filter.discovery === "ecds"
      ? { name, config_discovery: configDiscovery(entry.filter) }
      : { name, typed_config: entry.any };
  };

  const out: BuiltResources = {
    [TYPE_URLS.cluster]: [],
    [TYPE_URLS.endpoint]: [],
    [TYPE_URLS.extensionConfig]: [],
    [TYPE_URLS.listener]: [],
    [TYPE_URLS.route]: [],
  };

  for (const cluster of config.clusters) {
    out[TYPE_URLS.cluster].push({ name: cluster.name, message: message(buildCluster(cluster)) });
    if (usesEds(cluster)) {
      out[TYPE_URLS.endpoint].push({ name: cluster.name, message: message(loadAssignment(cluster.name, cluster.endpoints)) });
    }
  }

  // Every ecds filter is served, used or not, so adding it to a listener later
  // does not wait on a new ECDS resource.
  for (const { filter, any } of wasm.values()) {
    if (filter.discovery === "ecds") {
      out[TYPE_URLS.extensionConfig].push({ name: filter.name, message: message(buildExtensionConfig(filter, any)) });
    }
  }

  // Remote code that Envoy will actually fetch: served ECDS configs, and
  // listener-discovery filters a listener uses.
  const used = new Set(config.listeners.flatMap((l) => l.filters));
  const needsModuleCluster = [...wasm.values()].some(
    ({ filter, code }) => code.delivery === "remote" && (filter.discovery === "ecds" || used.has(filter.name)),
  );
  if (needsModuleCluster) {
    out[TYPE_URLS.cluster].push({ name: MODULE_CLUSTER_NAME, message: message(buildModuleCluster(endpoint)) });
  }

  const reports = failureReports(config.server);
  for (const listener of config.listeners) {
    out[TYPE_URLS.listener].push({ name: listener.name, message: message(buildListener(listener, slot, reports)) });
    if (listener.kind === "http") {
      out[TYPE_URLS.route].push({ name: listener.name, message: message(buildRouteConfiguration(listener)) });
    }
  }

  for (const list of Object.values(out)) list.sort(byName);
  return out;
}
