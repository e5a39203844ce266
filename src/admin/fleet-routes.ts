/**
 * GET /v1/fleet: which version of each filter the connected nodes receive,
 * counted per version, with each version's health counts (ACKs, NACKs,
 * crash signals). The console draws a bar per filter from it; scripts get
 * the same numbers. Nodes are placed by the pipeline's own explain (the
 * one place that answers "what does node X receive"), one node per
 * snapshot group, so the counts agree with GET /v1/nodes/<id>/explain.
 */
import type { ServingPipeline } from "../control/serving-pipeline";
import type { HealthMonitor } from "../health/monitor";
import type { XdsStreams } from "../xds/xds-streams";
import type { AdminRouter } from "./admin-server";

export interface FleetVersion {
  readonly plugin: string;
  readonly sha256: string;
  /** First 8 hex of the settings hash (module plus settings make a version). */
  readonly settings: string;
  /** Connected nodes that receive this version now. */
  readonly nodes: number;
  /** Health: probation, good or quarantined (unknown: not tracked). */
  readonly status: string;
  readonly acked: number;
  readonly nacks: number;
  readonly crashSignals: number;
}

export interface FleetFilter {
  readonly name: string;
  readonly versions: readonly FleetVersion[];
  /** Connected nodes the filter's selector leaves out. */
  readonly notSelected: number;
}

export interface FleetView {
  readonly at: string;
  readonly nodes: number;
  readonly configVersion: string | null;
  readonly filters: readonly FleetFilter[];
}

function settingsOf(key: string): string {
  const colon = key.indexOf(":");
  return key.slice(colon + 1, colon + 9);
}

export function fleetView(xds: XdsStreams, pipeline: ServingPipeline, monitor: HealthMonitor, now: number): FleetView {
  const published = pipeline.publisher.published;
  const filters = published?.loaded.config.filters ?? [];
  const counts = new Map<string, Map<string, { plugin: string; sha256: string; nodes: number }>>(filters.map((f) => [f.name, new Map()]));
  const left = new Map<string, number>(filters.map((f) => [f.name, 0]));
  // Nodes of one snapshot group receive the same snapshot (the group key says where it differs from the base:
  // control/group-snapshots.ts), so one explain per group places all of its nodes: 10,000 nodes cost a few explains.
  const ids = new Set<string>();
  const groups = new Map<string, { representative: string; nodes: number }>();
  for (const s of xds.streamStatuses()) {
    if (!s.node || ids.has(s.node.id)) continue;
    ids.add(s.node.id);
    const g = groups.get(s.group ?? "");
    if (g) g.nodes++;
    else groups.set(s.group ?? "", { representative: s.node.id, nodes: 1 });
  }
  for (const g of groups.values()) {
    for (const f of pipeline.explain(g.representative, [])?.filters ?? []) {
      if (!f.receives) {
        left.set(f.filter, (left.get(f.filter) ?? 0) + g.nodes);
        continue;
      }
      const perKey = counts.get(f.filter);
      const c = perKey?.get(f.receives.key) ?? { plugin: f.receives.plugin, sha256: f.receives.sha256, nodes: 0 };
      c.nodes += g.nodes;
      perKey?.set(f.receives.key, c);
    }
  }
  return {
    at: new Date(now).toISOString(),
    nodes: ids.size,
    configVersion: published?.snapshot.version ?? null,
    filters: filters.map((f) => {
      const served = counts.get(f.name) ?? new Map();
      const tracked = monitor.versionsOf(f.name);
      // Versions served now, then tracked versions no node receives (a rolled-back one keeps its counts).
      const keys = [...served.keys(), ...tracked.map((v) => v.key).filter((k) => !served.has(k))];
      return {
        name: f.name,
        notSelected: left.get(f.name) ?? 0,
        versions: keys.map((key): FleetVersion => {
          const health = tracked.find((v) => v.key === key);
          const c = served.get(key);
          const sha256 = c?.sha256 ?? health?.sha256 ?? "";
          return {
            plugin: c?.plugin ?? `${f.name}@${sha256.slice(0, 8)}`,
            sha256,
            settings: settingsOf(key),
            nodes: c?.nodes ?? 0,
            status: health?.status ?? "unknown",
            acked: health?.acked.size ?? 0,
            nacks: health?.nackCount ?? 0,
            crashSignals: health?.crashes.reduce((n, e) => n + e.count, 0) ?? 0,
          };
        }),
      };
    }),
  };
}

export function addFleetRoutes(
  router: AdminRouter,
  deps: { readonly xds: XdsStreams; readonly pipeline: ServingPipeline; readonly monitor: HealthMonitor; readonly now: () => number },
): AdminRouter {
  return router.add("GET", "/v1/fleet", () => ({ json: fleetView(deps.xds, deps.pipeline, deps.monitor, deps.now()) }));
}
