// Network (L4) filter entry points.
//
// @solo-io/proxy-runtime 0.1.8 has Context.onNewConnection / onDownstreamData /
// onUpstreamData / on*ConnectionClose but does not export the matching
// proxy-wasm callbacks, so Envoy would never call them. Network modules
// re-export these next to the SDK's exports:
//
//   export * from "@solo-io/proxy-runtime/proxy";
//   export * from "../common/network";

import { getContext } from "@solo-io/proxy-runtime/runtime";

export function proxy_on_new_connection(context_id: u32): u32 {
  return getContext(context_id).onNewConnection() as u32;
}

export function proxy_on_downstream_data(context_id: u32, data_size: u32, end_of_stream: u32): u32 {
  return getContext(context_id).onDownstreamData(data_size, end_of_stream != 0) as u32;
}

export function proxy_on_upstream_data(context_id: u32, data_size: u32, end_of_stream: u32): u32 {
  return getContext(context_id).onUpstreamData(data_size, end_of_stream != 0) as u32;
}

export function proxy_on_downstream_connection_close(context_id: u32, peer_type: u32): void {
  getContext(context_id).onDownstreamConnectionClose(peer_type);
}

export function proxy_on_upstream_connection_close(context_id: u32, peer_type: u32): void {
  getContext(context_id).onUpstreamConnectionClose(peer_type);
}
