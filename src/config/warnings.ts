/**
 * Things in a valid configuration that are probably not what the user meant,
 * reported as warnings (the configuration is still served).
 */
import type { WasmxdsConfig } from "./model";

export function configWarnings(config: WasmxdsConfig, file = "wasmxds.yaml"): string[] {
  const usedFilters = new Set<string>();
  const usedClusters = new Set<string>();
  for (const listener of config.listeners) {
    for (const f of listener.filters) usedFilters.add(f);
    if (listener.kind === "http") for (const r of listener.routes) usedClusters.add(r.cluster);
    else usedClusters.add(listener.cluster);
  }
  const warnings: string[] = [];
  for (const [i, f] of config.filters.entries()) {
    if (f.reloadBackoff?.maxMs !== undefined) {
      warnings.push(`${file}: filters[${i}].reloadBackoff.max: Envoy ignores it (FAIL_RELOAD reads only base), so it is not sent`);
    }
    if (f.module.type === "host" && f.preflight) {
      warnings.push(
        `${file}: filters[${i}].hostPath: no module copy in the config folder, so this version is not pre-flight checked; add module: <a copy of the file> to have it checked`,
      );
    }
    if (!usedFilters.has(f.name)) {
      warnings.push(`${file}: filters[${i}]: filter ${JSON.stringify(f.name)} is not used by any listener (it is still served over ECDS when discovery is ecds)`);
    }
  }
  for (const [i, c] of config.clusters.entries()) {
    if (!usedClusters.has(c.name)) {
      warnings.push(`${file}: clusters[${i}]: cluster ${JSON.stringify(c.name)} is not used by any listener`);
    }
  }
  return warnings;
}
