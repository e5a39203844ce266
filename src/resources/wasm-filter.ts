/**
 * The Wasm filter configuration of one configured filter: an
 * envoy.extensions.filters.{http,network}.wasm.v3.Wasm wrapping a PluginConfig
 * (docs/ENVOY.md "Wasm filter configuration").
 */
import { type FilterConfig, MIN_RELOAD_BASE_MS, MODULE_CLUSTER_NAME } from "../config/model";
import type { AsyncDataSource } from "../generated/envoy/config/core/v3/AsyncDataSource";
import type { PluginConfig } from "../generated/envoy/extensions/wasm/v3/PluginConfig";
import { type PackedAny, anyOf, stringValueAny } from "./any";
import { protoTimeFromMs as durationFromMs } from "../proto/time";
import { type ModuleServerEndpoint, moduleUri } from "./module-cluster";
import type { ResolvedCode } from "./module-code";
import { EXTENSION_TYPE_URLS } from "../vocabulary/type-urls";
import { envoyRuntime } from "../vocabulary/wasm-vm";

/** Envoy's default engine; named explicitly so the resource says what runs. */
export const WASM_RUNTIME = envoyRuntime("v8");

/** Remote fetch settings: HttpUri.timeout is required; retries ride out a module server restart. */
export const REMOTE_FETCH = { timeoutMs: 10_000, retries: 3, backoffBaseMs: 1000, backoffMaxMs: 10_000 } as const;

/** The filter type URL for a filter kind (also the ECDS `type_urls` entry). */
export function wasmTypeUrl(filter: FilterConfig): string {
  return filter.kind === "http" ? EXTENSION_TYPE_URLS.httpWasm : EXTENSION_TYPE_URLS.networkWasm;
}

/** First 8 hex digits of the module's sha256, used in names. */
export function shortSha(sha256: string): string {
  return sha256.slice(0, 8);
}

/**
 * The query a re-push adds to a remote module's URI (docs/HEALTH.md, "Remote
 * code over ECDS"): `?repush=<n>`. It makes the ECDS config differ from the
 * one the node NACKed (Envoy skips a config whose hash equals the last one it
 * received) without changing what runs: the code is looked up in Envoy's
 * cache by sha256, and the VM key is built from vm_id, VM configuration and
 * the code bytes, never the URI. The module server ignores the query, but
 * reports it with each fetch, so a fetch says which push started it.
 */
export const REPUSH_QUERY = "repush";

function codeSource(code: ResolvedCode, moduleServer: ModuleServerEndpoint, repush: number): AsyncDataSource {
  if (code.delivery === "inline") return { local: { inline_bytes: code.bytes } };
  // Envoy reads the file when it builds the filter config; a missing file NACKs the update (docs/ENVOY.md "Modules on the Envoy host").
  if (code.delivery === "host") return { local: { filename: code.path } };
  const query = repush > 0 ? `?${REPUSH_QUERY}=${repush}` : "";
  return {
    remote: {
      // The module server serves by content hash, also for `url:` modules it
      // fetched once itself, so Envoys need no route to the artifact host.
      http_uri: {
        uri: `${moduleUri(moduleServer, code.sha256)}${query}`,
        cluster: MODULE_CLUSTER_NAME,
        timeout: durationFromMs(REMOTE_FETCH.timeoutMs),
      },
      // Required and compared as lowercase hex of the body (docs/ENVOY.md "Wasm filter configuration").
      sha256: code.sha256,
      retry_policy: {
        num_retries: { value: REMOTE_FETCH.retries },
        retry_back_off: {
          base_interval: durationFromMs(REMOTE_FETCH.backoffBaseMs),
          max_interval: durationFromMs(REMOTE_FETCH.backoffMaxMs),
        },
      },
    },
  };
}

/** Whether Envoy is told to NACK a cache miss: remote code over ECDS (docs/HEALTH.md, "Remote code over ECDS"). */
export function nacksOnCacheMiss(filter: FilterConfig, code: ResolvedCode): boolean {
  return code.delivery === "remote" && filter.discovery === "ecds";
}

/** `repush`: the re-push attempt for a node that NACKed a cache miss (0: the config every node gets). */
export function buildPluginConfig(
  filter: FilterConfig,
  code: ResolvedCode,
  moduleServer: ModuleServerEndpoint,
  repush = 0,
): PluginConfig {
  const sha8 = shortSha(code.sha256);
  return {
    // The short sha in the plugin name keeps Envoy's per-plugin stats
    // (wasm.<plugin name>.vm_reload_*) apart across module versions.
    name: `${filter.name}@${sha8}`,
    root_id: filter.rootId,
    vm_config: {
      // Envoy shares a VM when vm_id, vm configuration and code match, and for
      // remote code decides before fetching; the sha in vm_id stops a new
      // module from silently reusing the old VM (docs/ENVOY.md "VM identity").
      vm_id: `${filter.vmId ?? filter.name}@${sha8}`,
      runtime: envoyRuntime(filter.runtime ?? "v8"),
      code: codeSource(code, moduleServer, repush),
      // Envoy's V8 then loads the module's `precompiled_wee8_v<V8 version>_<platform>` section instead of
      // compiling, when one matches its build exactly (docs/ENVOY.md "Precompiled modules").
      ...(filter.allowPrecompiled === true && { allow_precompiled: true }),
      // Host keys are read from Envoy's own environment; Envoy refuses a key named twice, which the schema checks.
      ...(filter.env !== undefined && {
        environment_variables: { host_env_keys: [...filter.env.hostKeys], key_values: { ...filter.env.values } },
      }),
      // Remote code in an ECDS update is never fetched on a warm listener
      // unless Envoy is told to NACK the miss and fetch in the background;
      // wasmxds then pushes again once the fetch is done (docs/ENVOY.md,
      // "Remote code over ECDS"). A listener's remote code is fetched while
      // the listener warms, so it keeps the default.
      ...(nacksOnCacheMiss(filter, code) && { nack_on_code_cache_miss: true }),
      ...(filter.vmConfiguration !== undefined && { configuration: stringValueAny(filter.vmConfiguration) }),
    },
    ...(filter.configuration !== undefined && { configuration: stringValueAny(filter.configuration) }),
    // failure_policy only, never fail_open: Envoy rejects the two together.
    failure_policy: filter.failurePolicy,
    // base_interval only: FAIL_RELOAD ignores max_interval (docs/ENVOY.md, "FAIL_RELOAD backoff").
    // The floor also covers settings restored from a state file written before the schema refused 1ms.
    ...(filter.reloadBackoff !== undefined && {
      reload_config: { backoff: { base_interval: durationFromMs(Math.max(MIN_RELOAD_BASE_MS, filter.reloadBackoff.baseMs)) } },
    }),
  };
}

/** The Wasm filter config as an Any, ready for typed_config. */
export function wasmFilterAny(filter: FilterConfig, code: ResolvedCode, moduleServer: ModuleServerEndpoint, repush = 0): PackedAny {
  return anyOf(wasmTypeUrl(filter), { config: buildPluginConfig(filter, code, moduleServer, repush) });
}
