/**
 * How Envoy reaches this server's module server for remote code: the
 * `wasmxds_modules` cluster and the URI of a module in it. HttpUri.cluster
 * must already exist when Envoy fetches (docs/ENVOY.md "Wasm filter
 * configuration"), so the cluster travels in the same snapshot as the filters
 * that use it, and CDS is pushed before ECDS and LDS (type-urls.ts ADS_ORDER).
 */
import { isIP } from "node:net";
import { MODULE_CLUSTER_NAME, type ServerConfig } from "../config/model";
import type { Cluster } from "../generated/envoy/config/cluster/v3/Cluster";
import { formatHostPort } from "../net/host-port";
import { protoTimeFromMs as durationFromMs } from "../proto/time";
import { loadAssignment } from "./endpoints";

export interface ModuleServerEndpoint {
  readonly host: string;
  readonly port: number;
  /** "" or `/prefix` (from server.modulesBaseUrl). */
  readonly basePath: string;
}

/**
 * `server.modulesBaseUrl` when configured, else the address the module server
 * listens on. An unspecified listen address (0.0.0.0, ::) is not a place to
 * connect to, so Envoy is pointed at loopback instead.
 */
export function moduleServerEndpoint(
  server: ServerConfig,
  listening: { readonly host: string; readonly port: number },
): ModuleServerEndpoint {
  if (server.modulesBaseUrl) return server.modulesBaseUrl;
  const host = listening.host === "0.0.0.0" ? "127.0.0.1" : listening.host === "::" ? "::1" : listening.host;
  return { host, port: listening.port, basePath: "" };
}

/** `http://<host:port><basePath>/modules/<sha256>.wasm`, IPv6 hosts bracketed. */
export function moduleUri(endpoint: ModuleServerEndpoint, sha256: string): string {
  return `http://${formatHostPort(endpoint)}${endpoint.basePath}/modules/${sha256}.wasm`;
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
  };
}
