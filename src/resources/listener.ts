/**
 * Listeners. HTTP: one filter chain with an HttpConnectionManager whose routes
 * come over RDS (route.ts) and whose http_filters are the listener's wasm
 * filters in order, then the router (which must be last). TCP: the wasm
 * network filters in order, then tcp_proxy (a terminal filter, so last).
 * Both carry the failure reports (access-log.ts) unless they are off.
 */
import type { HttpListenerConfig, ListenerConfig, TcpListenerConfig } from "../config/model";
import type { ExtensionConfigSource } from "../generated/envoy/config/core/v3/ExtensionConfigSource";
import type { Listener } from "../generated/envoy/config/listener/v3/Listener";
import type { HttpConnectionManager } from "../generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager";
import type { TcpProxy } from "../generated/envoy/extensions/filters/network/tcp_proxy/v3/TcpProxy";
import { type FailureReports, httpAccessLog, tcpAccessLog } from "./access-log";
import { socketAddress } from "./address";
import { type PackedAny, anyOf } from "./any";
import { adsConfigSource } from "./config-source";
import { EXTENSION_TYPE_URLS } from "../vocabulary/type-urls";

/** A wasm filter as a listener holds it: inline config, or a pointer to ECDS (ecds.ts). */
export type FilterSlot =
  | { readonly name: string; readonly typed_config: PackedAny }
  | { readonly name: string; readonly config_discovery: ExtensionConfigSource };

/** The slot for a filter name; build.ts supplies it. */
export type FilterSlots = (filterName: string) => FilterSlot;

function httpConnectionManager(listener: HttpListenerConfig, slots: FilterSlots, reports: FailureReports | undefined): HttpConnectionManager {
  return {
    stat_prefix: listener.statPrefix,
    ...(reports && { access_log: [httpAccessLog(listener.name, reports)] }),
    rds: { route_config_name: listener.name, config_source: adsConfigSource() },
    http_filters: [
      ...listener.filters.map((name) => ({ ...slots(name) })),
      { name: "envoy.filters.http.router", typed_config: anyOf(EXTENSION_TYPE_URLS.router, {}) },
    ],
  };
}

function tcpProxy(listener: TcpListenerConfig): TcpProxy {
  return { stat_prefix: listener.statPrefix, cluster: listener.cluster };
}

export function buildListener(listener: ListenerConfig, slots: FilterSlots, reports?: FailureReports): Listener {
  const terminal =
    listener.kind === "http"
      ? {
          name: "envoy.filters.network.http_connection_manager",
          typed_config: anyOf(EXTENSION_TYPE_URLS.httpConnectionManager, httpConnectionManager(listener, slots, reports)),
        }
      : {
          name: "envoy.filters.network.tcp_proxy",
          typed_config: anyOf(EXTENSION_TYPE_URLS.tcpProxy, tcpProxy(listener)),
        };
  const wasmFilters = listener.kind === "tcp" ? listener.filters.map((name) => ({ ...slots(name) })) : [];
  return {
    name: listener.name,
    address: socketAddress(listener.address.host, listener.address.port),
    filter_chains: [{ filters: [...wasmFilters, terminal] }],
    // A listener's access log writes one entry per connection when it ends (TCP only: HTTP requests log in the HCM).
    ...(reports && listener.kind === "tcp" && { access_log: [tcpAccessLog(listener.name, reports)] }),
  };
}
