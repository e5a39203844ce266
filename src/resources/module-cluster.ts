/**
 * How Envoy reaches this server's module server for remote code: the
 * `wasmxds_modules` cluster and the URI of a module in it. HttpUri.cluster
 * must already exist when Envoy fetches (docs/ENVOY.md "Wasm filter
 * configuration"), so the cluster travels in the same snapshot as the filters
 * that use it, and CDS is pushed before ECDS and LDS (type-urls.ts ADS_ORDER).
 *
 * With `--modules-tls` the URI is https and the cluster carries an
 * UpstreamTlsContext: SNI for a host name, and, with `--modules-ca`, the CA
 * inline plus a SAN matcher for the host, because Envoy checks neither the
 * chain nor the name of an upstream certificate unless told to
 * (docs/ENVOY.md, "Upstream TLS for the module cluster").
 */
import { isIP } from "node:net";
import { MODULE_CLUSTER_NAME, type ServerConfig } from "../config/model";
import type { Cluster } from "../generated/envoy/config/cluster/v3/Cluster";
import { formatHostPort } from "../net/host-port";
import { protoTimeFromMs as durationFromMs } from "../proto/time";
import { anyOf } from "./any";
import { loadAssignment } from "./endpoints";

const TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls";
const UPSTREAM_TLS_CONTEXT = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

/** What Envoy needs to reach the module server over https. */
export interface ModuleServerTls {
  /** PEM CA certificates Envoy verifies the module server with (`--modules-ca`); unset: Envoy encrypts but does not verify. */
  readonly trustedCa?: string;
}

/** Where the module server listens, and whether over https. */
export interface ModuleServerAddress {
  readonly host: string;
  readonly port: number;
  readonly tls?: ModuleServerTls;
}

export interface ModuleServerEndpoint {
  readonly host: string;
  readonly port: number;
  /** "" or `/prefix` (from server.modulesBaseUrl). */
  readonly basePath: string;
  readonly scheme: "http" | "https";
  readonly tls?: ModuleServerTls;
}

/**
 * `server.modulesBaseUrl` when configured, else the address the module server
 * listens on. An unspecified listen address (0.0.0.0, ::) is not a place to
 * connect to, so Envoy is pointed at loopback instead.
 */
export function moduleServerEndpoint(server: ServerConfig, listening: ModuleServerAddress): ModuleServerEndpoint {
  // A base URL names a plain-http front (a proxy) that Envoy reaches instead.
  if (server.modulesBaseUrl) return { ...server.modulesBaseUrl, scheme: "http" };
  const host = listening.host === "0.0.0.0" ? "127.0.0.1" : listening.host === "::" ? "::1" : listening.host;
  return { host, port: listening.port, basePath: "", ...(listening.tls ? { scheme: "https", tls: listening.tls } : { scheme: "http" }) };
}

/** `http(s)://<host:port><basePath>/modules/<sha256>.wasm`, IPv6 hosts bracketed. */
export function moduleUri(endpoint: ModuleServerEndpoint, sha256: string): string {
  return `${endpoint.scheme}://${formatHostPort(endpoint)}${endpoint.basePath}/modules/${sha256}.wasm`;
}

/**
 * A STATIC cluster (STRICT_DNS for a hostname) rather than EDS: it has one
 * fixed endpoint known when the snapshot is built, and it needs no further
 * resource before Envoy can fetch modules through it.
 */
export function buildModuleCluster(endpoint: ModuleServerEndpoint): Cluster {
  const byName = isIP(endpoint.host) === 0;
  return {
    name: MODULE_CLUSTER_NAME,
    type: byName ? "STRICT_DNS" : "STATIC",
    ...(byName && { dns_lookup_family: "V4_PREFERRED" as const }),
    connect_timeout: durationFromMs(5000),
    load_assignment: loadAssignment(MODULE_CLUSTER_NAME, [{ host: endpoint.host, port: endpoint.port }]),
    ...(endpoint.scheme === "https" && { transport_socket: { name: TLS_TRANSPORT_SOCKET, typed_config: anyOf(UPSTREAM_TLS_CONTEXT, upstreamTls(endpoint)) } }),
  };
}

/** The UpstreamTlsContext for the module server: SNI for a host name; with a CA, chain and name checked. */
function upstreamTls(endpoint: ModuleServerEndpoint): object {
  const byName = isIP(endpoint.host) === 0;
  const ca = endpoint.tls?.trustedCa;
  return {
    ...(byName && { sni: endpoint.host }),
    common_tls_context: {
      ...(ca !== undefined && {
        validation_context: {
          trusted_ca: { inline_string: ca },
          match_typed_subject_alt_names: [{ san_type: byName ? "DNS" : "IP_ADDRESS", matcher: { exact: endpoint.host } }],
        },
      }),
    },
  };
}
