/**
 * Envoy's wasm and ECDS stat names, and what each says about a filter
 * version. Shared by the metrics service ingest and the admin poller.
 *
 * Names, from Envoy's source (docs/ENVOY.md "What Envoy does when a running
 * module crashes"):
 * - `wasm.<plugin name>.vm_reload`, `vm_reload_success`, `vm_reload_failure`,
 *   `vm_reload_backoff` (counters) and gauge `vm_memory_size`: the
 *   StatsHandler scope `"wasm." + config.name() + "."`
 *   (source/extensions/common/wasm/wasm.cc, stats_handler.h WASM_STATS).
 * - `wasm.<runtime>.created` (counter), `.active`, `.memory_size` (gauges):
 *   LifecycleStatsHandler, prefix `"wasm." + runtime + "."` (stats_handler.h).
 * - `wasm.remote_load_cache_hits|_negative_hits|_misses`,
 *   `wasm.remote_load_fetch_successes|_failures`, gauge
 *   `wasm.remote_load_cache_entries` (stats_handler.h CREATE_WASM_STATS).
 * - `extension_config_discovery.<http_filter.|network_filter.|upstream_...>
 *   <filter config name>.config_reload|config_fail` plus the subscription
 *   stats (`update_rejected`, ...) under the same prefix
 *   (source/common/filter/config_discovery_impl.h, statPrefix()).
 * Plugin and ECDS names may contain dots, so names are split by their known
 * prefix and suffix, never by counting segments.
 */
import { parsePluginName } from "./signal";
import { ADMIN_TRAFFIC_FILTER, trafficStat } from "./stat-traffic";

/** What a stat name means for health, when it names a signal. */
export type StatSignal =
  | { readonly kind: "vm_reload_success" | "vm_reload_failure" | "vm_reload_backoff"; readonly plugin: string }
  | { readonly kind: "vm_created"; readonly runtime: string }
  | { readonly kind: "remote_fetch_failure" }
  | { readonly kind: "ecds_config_fail"; readonly filter: string; readonly filterKind: string };

/**
 * The admin `filter=` regex (RE2, matched anywhere in the name: Envoy admin
 * docs, "GET /stats"). It selects exactly the names isWasmStat accepts.
 */
export const ADMIN_STATS_FILTER = "^(wasm|extension_config_discovery)\\.";

/** The admin `filter=` regex of the health pull: the wasm and ECDS stats and the listeners' traffic counters (stat-traffic.ts). */
export const ADMIN_HEALTH_FILTER = `${ADMIN_STATS_FILTER}|${ADMIN_TRAFFIC_FILTER}`;

const WASM = "wasm.";
const ECDS = "extension_config_discovery.";
const RELOAD_SUFFIXES = ["vm_reload_success", "vm_reload_failure", "vm_reload_backoff"] as const;
/** ECDS stat prefixes (FilterConfigProviderManagerImpl::statPrefix() in config_discovery_impl.h). */
const ECDS_KINDS = ["http_filter", "network_filter", "upstream_http_filter", "upstream_network_filter"] as const;
const ECDS_FAIL_SUFFIXES = ["config_fail", "update_rejected"] as const;

/** True for the stats kept in the per-node view: every `wasm.*` and `extension_config_discovery.*` stat. */
export function isWasmStat(name: string): boolean {
  return name.startsWith(WASM) || name.startsWith(ECDS);
}

/** True for every stat the health ingest keeps: the wasm and ECDS stats and the listeners' traffic counters. */
export function isHealthStat(name: string): boolean {
  return isWasmStat(name) || trafficStat(name) !== undefined;
}

/** The signal a stat's increase means, or undefined (also for unrelated stats). */
export function statSignal(name: string): StatSignal | undefined {
  if (name.startsWith(WASM)) return wasmSignal(name.slice(WASM.length));
  if (name.startsWith(ECDS)) return ecdsSignal(name.slice(ECDS.length));
  return undefined;
}

function wasmSignal(rest: string): StatSignal | undefined {
  if (rest === "remote_load_fetch_failures") return { kind: "remote_fetch_failure" };
  for (const suffix of RELOAD_SUFFIXES) {
    const plugin = middle(rest, `.${suffix}`);
    if (plugin !== undefined) return { kind: suffix, plugin };
  }
  // Plugins have no `created` stat, so `wasm.<x>.created` is always a runtime's.
  const runtime = middle(rest, ".created");
  return runtime !== undefined ? { kind: "vm_created", runtime } : undefined;
}

function ecdsSignal(rest: string): StatSignal | undefined {
  for (const filterKind of ECDS_KINDS) {
    if (!rest.startsWith(`${filterKind}.`)) continue;
    const tail = rest.slice(filterKind.length + 1);
    for (const suffix of ECDS_FAIL_SUFFIXES) {
      const filter = middle(tail, `.${suffix}`);
      if (filter !== undefined) return { kind: "ecds_config_fail", filter, filterKind };
    }
  }
  return undefined;
}

/** `s` without `suffix` when it ends with it and something non-empty is left. */
function middle(s: string, suffix: string): string | undefined {
  return s.length > suffix.length && s.endsWith(suffix) ? s.slice(0, -suffix.length) : undefined;
}

/** Labels that may carry a segment a custom tag extractor took out of the name. */
const PLUGIN_LABELS = ["plugin_name", "wasm_plugin", "plugin", "wasm_filter"];
const RUNTIME_LABELS = ["runtime", "wasm_runtime"];
const FILTER_LABELS = ["extension_config_name", "filter_name", "ecds_name", "config_name", "filter", "name"];
const FILTER_KIND_LABELS = ["filter_type", "filter_kind", "ecds_type"];

export interface Label {
  readonly name: string;
  readonly value: string;
}

/**
 * The dotted stat name of one metric of a MetricFamily. Without
 * emit_tags_as_labels the family name is the full name; with it, Envoy sends
 * metric.tagExtractedName() and the tags as labels
 * (grpc_metrics_service_impl.cc, populateMetricsFamily). Envoy's default tag
 * extractors match none of the wasm or ECDS names
 * (source/common/config/well_known_names.cc), so those arrive whole; a
 * custom `stats_tags` regex can take out the plugin, runtime or filter
 * segment (its first capture group is removed from the name, ENVOY docs
 * config.metrics.v3.TagSpecifier), and it is put back from the labels here:
 * a known label name, or any label whose value has the `<filter>@<sha8>`
 * form of a wasmxds plugin name.
 */
export function statNameOf(familyName: string, labels: readonly Label[]): string {
  if (labels.length === 0 || statSignal(familyName)) return familyName;
  const get = (names: readonly string[]) => labels.find((l) => names.includes(l.name) && l.value !== "")?.value;
  if (familyName.startsWith(WASM)) {
    const rest = familyName.slice(WASM.length);
    if ((RELOAD_SUFFIXES as readonly string[]).includes(rest) || rest === "vm_reload") {
      const plugin = get(PLUGIN_LABELS) ?? labels.find((l) => parsePluginName(l.value))?.value;
      if (plugin) return `${WASM}${plugin}.${rest}`;
    }
    if (rest === "created" || rest === "active") {
      const runtime = get(RUNTIME_LABELS) ?? labels.find((l) => l.value.startsWith("envoy.wasm.runtime."))?.value;
      if (runtime) return `${WASM}${runtime}.${rest}`;
    }
    return familyName;
  }
  if (familyName.startsWith(ECDS)) {
    const filter = get(FILTER_LABELS);
    if (!filter) return familyName;
    const rest = familyName.slice(ECDS.length);
    const kind = ECDS_KINDS.find((k) => rest.startsWith(`${k}.`));
    if (kind) return `${ECDS}${kind}.${filter}.${rest.slice(kind.length + 1)}`;
    const labelled = get(FILTER_KIND_LABELS)?.replace(/\.$/, "");
    if (labelled && (ECDS_KINDS as readonly string[]).includes(labelled)) return `${ECDS}${labelled}.${filter}.${rest}`;
  }
  return familyName;
}
