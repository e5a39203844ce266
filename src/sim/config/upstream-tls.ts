/**
 * The part of a cluster's UpstreamTlsContext a simulated node uses to fetch
 * remote Wasm code over TLS, read the way Envoy reads it
 * (source/common/tls/cert_validator/default_validator.cc and
 * api/envoy/extensions/transport_sockets/tls/v3/common.proto; docs/ENVOY.md
 * "Upstream TLS for the module cluster"):
 * - without a validation context the upstream certificate is not verified;
 * - with trusted_ca the chain must lead to it;
 * - names are checked only against match_typed_subject_alt_names (any one
 *   matching passes); SNI is what the handshake sends, not a check.
 */
import type { Cluster__Output } from "../../generated/envoy/config/cluster/v3/Cluster";
import type { UpstreamTlsContext__Output } from "../../generated/envoy/extensions/transport_sockets/tls/v3/UpstreamTlsContext";
import { decodeMessage, messageNameOf } from "../../proto/registry";

const UPSTREAM_TLS_CONTEXT = "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

export interface SanMatcher {
  readonly type: "DNS" | "IP_ADDRESS" | "URI" | "EMAIL";
  readonly exact: string;
}

export interface UpstreamTls {
  /** Sent as SNI ("" : none). */
  readonly sni: string;
  /** PEM roots from trusted_ca (inline only; a file path on an Envoy host means nothing here). */
  readonly trustedCa: string | undefined;
  readonly sanMatchers: readonly SanMatcher[];
}

/** The cluster's TLS settings, undefined for a plaintext cluster; throws on a transport socket it cannot read. */
export function upstreamTlsOf(cluster: Cluster__Output): UpstreamTls | undefined {
  const socket = cluster.transport_socket;
  const any = socket?.typed_config;
  if (!socket || !any) return undefined;
  if (messageNameOf(any.type_url) !== UPSTREAM_TLS_CONTEXT) throw new Error(`transport socket ${socket.name}: unsupported config ${any.type_url}`);
  const context = decodeMessage<UpstreamTlsContext__Output>(UPSTREAM_TLS_CONTEXT, any.value);
  const validation = context.common_tls_context?.validation_context;
  const ca = validation?.trusted_ca;
  const trustedCa = ca?.inline_string || (ca?.inline_bytes && ca.inline_bytes.length > 0 ? Buffer.from(ca.inline_bytes).toString("utf8") : undefined);
  if (ca?.filename) throw new Error("trusted_ca.filename: a file on an Envoy host; the simulator reads inline CAs only");
  const sanMatchers = (validation?.match_typed_subject_alt_names ?? []).flatMap((m): SanMatcher[] => {
    const exact = m.matcher?.exact;
    const type = m.san_type;
    return exact && (type === "DNS" || type === "IP_ADDRESS" || type === "URI" || type === "EMAIL") ? [{ type, exact }] : [];
  });
  return { sni: context.sni ?? "", trustedCa, sanMatchers };
}
