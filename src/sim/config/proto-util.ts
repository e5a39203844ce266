/** Small readers for decoded Envoy messages, shared by the simulated managers. */
import type { ConfigSource__Output } from "../../generated/envoy/config/core/v3/ConfigSource";
import type { ClusterLoadAssignment__Output } from "../../generated/envoy/config/endpoint/v3/ClusterLoadAssignment";
import type { Duration__Output } from "../../generated/google/protobuf/Duration";
import { msFromProtoTime } from "../../proto/time";
import type { UpstreamTls } from "./upstream-tls";

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** The cluster's TLS (its transport socket), for requests the node makes to it. */
  readonly tls?: UpstreamTls;
}

/** A google.protobuf.Duration in milliseconds, or `fallback` when unset. */
export function durationMs(d: Duration__Output | null | undefined, fallback: number): number {
  if (!d) return fallback;
  return msFromProtoTime(d);
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

/**
 * CDS's rejection text: `Error adding/updating cluster(s) a: why, b: why`
 * (source/common/upstream/cds_api_helper.cc and cds_api_impl.cc join the
 * per-cluster messages with ", ").
 */
export function clusterErrors(errors: readonly string[]): string {
  return `Error adding/updating cluster(s) ${errors.join(", ")}`;
}

/**
 * LDS's rejection text: every failed listener appends `<name>: <why>` and a
 * newline, so the message ends with "\n" (source/common/listener_manager/
 * lds_api.cc, onError: StrAppend(message, name, ": ", why, "\n")).
 */
export function listenerErrors(errors: readonly string[]): string {
  return `Error adding/updating listener(s) ${errors.map((e) => `${e}\n`).join("")}`;
}
