/**
 * One synthetic TCP connection through a listener's network filters, the
 * way Envoy drives the network wasm filter (on_new_connection, then
 * on_downstream_data, the upstream's answer through on_upstream_data in
 * reverse order, then on_downstream_connection_close and on_done / on_log /
 * on_delete; docs/ENVOY.md "What Envoy does when a running module crashes"):
 * a trap or a filter that fails closed closes the connection, as does an
 * ECDS filter without config and a tcp_proxy without its cluster. The
 * upstream is simulated and echoes the data. Neither a filter that closes
 * the downstream itself (proxy_close_stream: Context::closeStream passes
 * `wasm_downstream_close` to connection().close(), which keeps it only as
 * the connection's local close reason) nor a failed filter
 * (Context::failStream, no details) sets StreamInfo's
 * connection_termination_details, the field the gRPC access log reports:
 * in Envoy 1.33 the two look the same in the TCP log (docs/ENVOY.md
 * "Access logs for failure reports").
 */
import { FilterStatus, PeerType, StreamType } from "../../wasm/abi/enums";
import type { NetworkContext } from "../../wasm/host";
import type { ListenerSpec } from "../config/listener-spec";
import { type ChainEnvironment, resolveSlot } from "./chain-env";

export interface TcpConnectionInput {
  readonly data?: string | Uint8Array;
}

export type TcpCloseReason = "none" | "closed_by_filter" | "wasm_fail_stream" | "missing_filter_config" | "no_cluster";

export interface TcpOutcome {
  readonly listener: string;
  /** Why the proxy closed the connection before the data round trip; "none" when it completed. */
  readonly closed: TcpCloseReason;
  /** What reached the (simulated) upstream; undefined when nothing did. */
  readonly upstreamData: Uint8Array | undefined;
  /** The cluster tcp_proxy connected to; undefined when the connection never reached tcp_proxy's upstream. */
  readonly upstreamCluster: string | undefined;
  /** Envoy's response flags: NC when tcp_proxy's cluster is missing. A failed wasm filter sets none. */
  readonly responseFlags: readonly string[];
  /** The access log's connection_termination_details: never set by a wasm filter's close (see above); kept for filters that set it. */
  readonly terminationDetails: string | undefined;
  /** Bytes from and to the downstream. */
  readonly receivedBytes: number;
  readonly sentBytes: number;
}

const encoder = new TextEncoder();


export function runTcpConnection(listener: ListenerSpec, input: TcpConnectionInput, env: ChainEnvironment): TcpOutcome {
  const data = typeof input.data === "string" ? encoder.encode(input.data) : (input.data ?? encoder.encode("ping\n"));
  const active: NetworkContext[] = [];
  let closed: TcpCloseReason = "none";
  let forwarded = true;

  for (const slot of listener.networkFilters) {
    if (slot.kind === "terminal") break;
    const plugin = resolveSlot("network", slot, env);
    if (plugin === "missing") {
      closed = "missing_filter_config";
      break;
    }
    if (!plugin) continue;
    const gate = plugin.gate();
    if (gate.kind === "skip") continue;
    if (gate.kind === "fail") {
      closed = "wasm_fail_stream";
      break;
    }
    try {
      const ctx = gate.vm.createNetworkContext();
      active.push(ctx);
      ctx.onNewConnection();
    } catch {
      closed = "wasm_fail_stream";
      break;
    }
  }

  let upstreamData: Uint8Array | undefined;
  let upstreamCluster: string | undefined;
  const responseFlags: string[] = [];
  if (closed === "none") {
    for (const ctx of active) {
      try {
        const status = ctx.onDownstreamData(data, false);
        if (ctx.closed.includes(StreamType.Downstream)) closed = "closed_by_filter";
        if (status !== FilterStatus.Continue) forwarded = false;
      } catch {
        closed = "wasm_fail_stream";
      }
      if (closed !== "none" || !forwarded) break;
    }
  }
  if (closed === "none" && forwarded) {
    const cluster = listener.tcp?.cluster;
    if (listener.tcp && (!cluster || !env.clusters.has(cluster))) {
      env.stats.inc(`tcp.${listener.tcp.statPrefix}.downstream_cx_no_route`);
      closed = "no_cluster";
      responseFlags.push("NC");
    } else {
      upstreamData = data;
      upstreamCluster = cluster;
      // tcp_proxy opened an upstream connection: the cluster counts it (Envoy's upstream_cx_total).
      if (cluster) env.stats.inc(`cluster.${cluster}.upstream_cx_total`);
      for (const ctx of [...active].reverse()) {
        try {
          ctx.onUpstreamData(data, false);
        } catch {
          closed = "wasm_fail_stream";
          break;
        }
      }
    }
  }
  for (const ctx of active) {
    try {
      ctx.onDownstreamConnectionClose(closed === "none" ? PeerType.Remote : PeerType.Local);
      ctx.finish();
    } catch {
      // A trap while closing fails the VM for later connections only.
    }
  }
  env.stats.inc(`${listener.statScope}downstream_cx_total`);
  if (listener.tcp) {
    const p = `tcp.${listener.tcp.statPrefix}.`;
    env.stats.inc(`${p}downstream_cx_total`);
    env.stats.inc(`${p}downstream_cx_rx_bytes_total`, data.length);
    if (upstreamData) env.stats.inc(`${p}downstream_cx_tx_bytes_total`, data.length);
  }
  const sentBytes = upstreamData && closed === "none" ? data.length : 0;
  // ConnectionImpl::close(type, details) only sets the local close reason, not StreamInfo's termination details.
  const terminationDetails = undefined;
  return { listener: listener.name, closed, upstreamData, upstreamCluster, responseFlags, terminationDetails, receivedBytes: data.length, sentBytes };
}
