/** What a synthetic request or connection needs from its node, and how a filter slot resolves. */
import type { Logger } from "../../logger";
import type { ClusterManager } from "../config/cluster-manager";
import type { EcdsRegistry, FilterKind } from "../config/ecds-registry";
import type { FilterSlot } from "../config/listener-spec";
import type { RouteTable } from "../config/route-table";
import type { StatsStore } from "../stats/stats-store";
import type { WasmPlugin } from "../wasm/wasm-plugin";

export interface ChainEnvironment {
  readonly stats: StatsStore;
  readonly ecds: EcdsRegistry;
  readonly routes: RouteTable;
  readonly clusters: ClusterManager;
  readonly logger: Logger;
}

/**
 * A slot's filter for one stream: a wasm plugin, "missing" (an ECDS filter
 * whose config never arrived), or undefined (a filter the simulator passes
 * through).
 */
export function resolveSlot(kind: FilterKind, slot: FilterSlot, env: ChainEnvironment): WasmPlugin | "missing" | undefined {
  if (slot.kind === "wasm") return slot.plugin;
  if (slot.kind !== "ecds") return undefined;
  const config = env.ecds.config(kind, slot.name);
  if (!config) return "missing";
  return config.plugin;
}
