/**
 * LDS in a simulated node (Envoy's LdsApiImpl and ListenerManagerImpl;
 * Envoy docs "Listener discovery service" and "Initialization"):
 * - state of the world: a listener missing from a response is removed, one
 *   whose bytes did not change is left alone;
 * - bad listeners are rejected one by one, the rest applied, and the update
 *   NACKed with `Error adding/updating listener(s) <name>: <why>\n` (one
 *   `<name>: <why>\n` per bad listener; lds_api.cc);
 * - a new or changed listener warms until its RDS route configuration, its
 *   ECDS filter configs and any remote wasm code are in (or their initial
 *   fetch timeout passes); the old version of a changed listener keeps
 *   serving meanwhile, then is replaced (docs/ENVOY.md "ECDS").
 * Stats: listener_manager.lds.update_attempt / update_success /
 * update_rejected, listener_manager.listener_added / modified / removed,
 * gauges listener_manager.total_listeners_warming / total_listeners_active.
 */
import type { Listener__Output } from "../../generated/envoy/config/listener/v3/Listener";
import type { Any__Output } from "../../generated/google/protobuf/Any";
import { errorMessage } from "../../errors";
import { decodeMessage } from "../../proto/registry";
import type { Clock } from "../../time/clock";
import type { StatsStore } from "../stats/stats-store";
import type { WasmRuntime } from "../wasm/wasm-runtime";
import type { ApplyResult } from "../xds/xds-client";
import type { EcdsRegistry, FilterKind } from "./ecds-registry";
import { type ListenerSpec, listenerDependencies, readListener } from "./listener-spec";
import { listenerErrors } from "./proto-util";
import type { RouteTable } from "./route-table";

interface Slot {
  active: ListenerSpec | undefined;
  warming: ListenerSpec | undefined;
}

export interface ListenerStatus {
  readonly name: string;
  readonly state: "active" | "warming" | "updating";
  readonly address: string;
  readonly kind: "http" | "tcp" | "other";
}

export class ListenerManager {
  private readonly slots = new Map<string, Slot>();
  private received = false;

  constructor(
    private readonly stats: StatsStore,
    private readonly clock: Clock,
    private readonly wasm: WasmRuntime,
    private readonly routes: RouteTable,
    private readonly ecds: EcdsRegistry,
    /** The RDS and ECDS names the listeners need changed, or a listener became active. */
    private readonly refreshed: () => void,
  ) {
    for (const c of ["update_attempt", "update_success", "update_rejected", "update_failure", "init_fetch_timeout"]) {
      stats.declareCounter(`listener_manager.lds.${c}`);
    }
    stats.declareGauge("listener_manager.total_listeners_warming");
    stats.declareGauge("listener_manager.total_listeners_active");
  }

  /** The first LDS response was applied (or LDS gave up waiting). */
  get initialized(): boolean {
    return this.received;
  }

  get warmingCount(): number {
    return [...this.slots.values()].filter((s) => s.warming).length;
  }

  /** The serving version of each listener. */
  active(): ListenerSpec[] {
    return [...this.slots.values()].flatMap((s) => (s.active ? [s.active] : []));
  }

  /** Every listener version held (serving and warming). */
  all(): ListenerSpec[] {
    return [...this.slots.values()].flatMap((s) => [s.active, s.warming].filter((l): l is ListenerSpec => l !== undefined));
  }

  status(): ListenerStatus[] {
    return [...this.slots].map(([name, s]) => {
      const spec = (s.active ?? s.warming) as ListenerSpec;
      return {
        name,
        state: s.active ? (s.warming ? "updating" : "active") : "warming",
        address: spec.address,
        kind: spec.http ? "http" : spec.tcp ? "tcp" : "other",
      };
    });
  }

  /** True when a listener version that has not warmed yet refers to this ECDS filter config. */
  warmingRefersTo(kind: FilterKind, name: string): boolean {
    for (const slot of this.slots.values()) {
      if (slot.warming && listenerDependencies(slot.warming).ecds.some((r) => r.kind === kind && r.name === name)) return true;
    }
    return false;
  }

  /** The stat prefix of the first HTTP listener using a route config name (RDS stats scope). */
  statPrefixOfRoute(name: string): string {
    return this.all().find((l) => l.http?.rds?.name === name)?.http?.statPrefix ?? name;
  }

  ldsTimedOut(): void {
    if (this.received) return;
    this.stats.inc("listener_manager.lds.init_fetch_timeout");
    this.received = true;
    this.refreshed();
  }

  apply(resources: readonly Any__Output[]): ApplyResult {
    this.stats.inc("listener_manager.lds.update_attempt");
    const errors: string[] = [];
    const seen = new Set<string>();
    for (const any of resources) {
      const bytes = Buffer.from(any.value);
      const listener = decodeMessage<Listener__Output>("envoy.config.listener.v3.Listener", bytes);
      if (seen.has(listener.name)) {
        errors.push(`${listener.name}: duplicate listener ${listener.name} found`);
        continue;
      }
      seen.add(listener.name);
      const slot = this.slots.get(listener.name) ?? { active: undefined, warming: undefined };
      const newest = slot.warming ?? slot.active;
      if (newest?.bytes.equals(bytes)) continue;
      let spec: ListenerSpec;
      try {
        spec = readListener(bytes, listener, this.wasm);
      } catch (err) {
        errors.push(`${listener.name}: ${errorMessage(err)}`);
        continue;
      }
      for (const p of slot.warming?.plugins ?? []) p.release();
      slot.warming = spec;
      this.stats.inc(newest ? "listener_manager.listener_modified" : "listener_manager.listener_added");
      this.slots.set(listener.name, slot);
    }
    for (const [name, slot] of this.slots) {
      if (seen.has(name)) continue;
      for (const l of [slot.active, slot.warming]) for (const p of l?.plugins ?? []) p.release();
      this.slots.delete(name);
      this.stats.inc("listener_manager.listener_removed");
    }
    this.received = true;
    this.reevaluate();
    if (errors.length > 0) {
      this.stats.inc("listener_manager.lds.update_rejected");
      return { ok: false, message: listenerErrors(errors) };
    }
    this.stats.inc("listener_manager.lds.update_success");
    this.stats.set("listener_manager.lds.update_time", this.clock.now());
    return { ok: true };
  }

  /** Promotes warming listeners whose dependencies are ready, then tells the node what to watch. */
  reevaluate(): void {
    for (const slot of this.slots.values()) {
      const w = slot.warming;
      if (!w || !this.ready(w)) continue;
      for (const p of slot.active?.plugins ?? []) p.release();
      slot.active = w;
      slot.warming = undefined;
    }
    this.stats.set("listener_manager.total_listeners_warming", this.warmingCount);
    this.stats.set("listener_manager.total_listeners_active", this.active().length);
    this.refreshed();
  }

  close(): void {
    for (const slot of this.slots.values()) for (const l of [slot.active, slot.warming]) for (const p of l?.plugins ?? []) p.release();
    this.slots.clear();
  }

  private ready(spec: ListenerSpec): boolean {
    const deps = listenerDependencies(spec);
    if (deps.rds && !this.routes.isInitialized(deps.rds.name)) return false;
    if (!deps.ecds.every((r) => this.ecds.isReady(r.kind, r.name))) return false;
    return spec.plugins.every((p) => !p.loading);
  }
}
