/** Small readers for decoded Envoy messages, shared by the simulated managers. */
import type { ConfigSource__Output } from "../../generated/envoy/config/core/v3/ConfigSource";
import type { ClusterLoadAssignment__Output } from "../../generated/envoy/config/endpoint/v3/ClusterLoadAssignment";
import type { Duration__Output } from "../../generated/google/protobuf/Duration";

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** A google.protobuf.Duration in milliseconds, or `fallback` when unset. */
export function durationMs(d: Duration__Output | null | undefined, fallback: number): number {
  if (!d) return fallback;
  return Number(d.seconds) * 1000 + Math.floor((d.nanos ?? 0) / 1e6);
}

/**
 * ConfigSource.initial_fetch_timeout, default 15 s; 0 disables it (Envoy's
 * config_source.proto). After it a warming resource stops waiting.
 */
export function initialFetchTimeoutMs(source: ConfigSource__Output | null | undefined): number {
  return durationMs(source?.initial_fetch_timeout, 15_000);
}

/** The socket addresses of a ClusterLoadAssignment, in order. */
export function endpointsOf(cla: ClusterLoadAssignment__Output | null | undefined): Endpoint[] {
  const out: Endpoint[] = [];
  for (const locality of cla?.endpoints ?? []) {
    for (const lb of locality.lb_endpoints ?? []) {
      const sa = lb.endpoint?.address?.socket_address;
      if (sa?.address) out.push({ host: sa.address, port: sa.port_value ?? 0 });
    }
  }
  return out;
}

/** Envoy's per-resource error list, e.g. `Error adding/updating listener(s) a: why, b: why`. */
export function joinErrors(what: string, errors: readonly string[]): string {
  return `Error adding/updating ${what}(s) ${errors.join(", ")}`;
}
