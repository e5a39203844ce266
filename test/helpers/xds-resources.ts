/** Envoy resources and wasm modules for raw xDS tests (the simulator, the ingest harness), built with the vendored protos. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeMessage, packAny } from "../../src/proto/registry";
import { EXTENSION_TYPE_URLS, TYPE_URLS } from "../../src/vocabulary/type-urls";
import { sha256Hex } from "../../src/vocabulary/sha256";
import type { AnyMessage } from "./raw-ads-server";
import { fixture } from "./wasm-bytes";

const ADS = { ads: {}, resource_api_version: "V3" };

export type ModuleName =
  | "good_http"
  | "good_network"
  | "trap_nth_request"
  | "trap_on_header"
  | "trap_first_request"
  | "network_trap"
  | "configure_false"
  | "abort_vm_start";

export function moduleBytes(name: ModuleName): Buffer {
  return fixture(name);
}

export function any(fullName: string, message: object): AnyMessage {
  return packAny(fullName, message);
}

/** A resource in both forms: the plain message (for SnapshotCache) and the Any (for the raw server). */
export interface Res {
  readonly name: string;
  readonly message: Record<string, unknown>;
  readonly any: AnyMessage;
}

function res(fullName: string, name: string, message: Record<string, unknown>): Res {
  return { name, message, any: packAny(fullName, message) };
}

export type Code = { inline: Buffer } | { remote: { uri: string; sha256: string; cluster?: string; retries?: number; backoffMs?: number } };

export interface WasmOptions {
  readonly plugin: string;
  readonly rootId: string;
  readonly code: Code;
  readonly configuration?: string;
  readonly vmId?: string;
  readonly failurePolicy?: "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";
  readonly reloadBaseMs?: number;
  /** VmConfig.nack_on_code_cache_miss. */
  readonly nackOnCodeCacheMiss?: boolean;
}

const ms = (n: number) => ({ seconds: Math.floor(n / 1000), nanos: (n % 1000) * 1e6 });

/** An envoy.extensions.filters.{http,network}.wasm.v3.Wasm as an Any. */
export function wasmAny(kind: "http" | "network", o: WasmOptions): AnyMessage {
  const code =
    "inline" in o.code
      ? { local: { inline_bytes: o.code.inline } }
      : {
          remote: {
            http_uri: { uri: o.code.remote.uri, cluster: o.code.remote.cluster ?? "wasmxds_modules", timeout: ms(5000) },
            sha256: o.code.remote.sha256,
            retry_policy: { num_retries: { value: o.code.remote.retries ?? 0 }, retry_back_off: { base_interval: ms(o.code.remote.backoffMs ?? 10) } },
          },
        };
  const typeUrl = kind === "http" ? EXTENSION_TYPE_URLS.httpWasm : EXTENSION_TYPE_URLS.networkWasm;
  return {
    type_url: typeUrl,
    value: encodeMessage(typeUrl.split("/")[1] as string, {
      config: {
        name: o.plugin,
        root_id: o.rootId,
        vm_config: {
          vm_id: o.vmId ?? o.plugin,
          runtime: "envoy.wasm.runtime.v8",
          code,
          ...(o.nackOnCodeCacheMiss !== undefined && { nack_on_code_cache_miss: o.nackOnCodeCacheMiss }),
        },
        ...(o.configuration !== undefined && { configuration: packAny("google.protobuf.StringValue", { value: o.configuration }) }),
        ...(o.failurePolicy && { failure_policy: o.failurePolicy }),
        ...(o.reloadBaseMs !== undefined && { reload_config: { backoff: { base_interval: ms(o.reloadBaseMs) } } }),
      },
    }),
  };
}

export function ecds(name: string, typed: AnyMessage): Res {
  return res("envoy.config.core.v3.TypedExtensionConfig", name, { name, typed_config: typed });
}

export function staticCluster(name: string, port: number): Res {
  return res("envoy.config.cluster.v3.Cluster", name, {
    name,
    type: "STATIC",
    connect_timeout: ms(1000),
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] },
  });
}

export function edsCluster(name: string): Res {
  return res("envoy.config.cluster.v3.Cluster", name, { name, type: "EDS", eds_cluster_config: { eds_config: ADS }, connect_timeout: ms(1000) });
}

export function assignment(name: string, port: number): Res {
  return res("envoy.config.endpoint.v3.ClusterLoadAssignment", name, {
    cluster_name: name,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }],
  });
}

export function routeConfig(name: string, cluster: string): Res {
  return res("envoy.config.route.v3.RouteConfiguration", name, {
    name,
    virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster } }] }],
  });
}

type HttpFilterSlot = { ecds: string } | { inline: AnyMessage; name: string };

/** An HTTP listener: the given filters (ECDS or inline wasm), then the router; routes over RDS named after the listener. */
export function httpListener(name: string, port: number, filters: HttpFilterSlot[]): Res {
  const hcm = packAny("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", {
    stat_prefix: name,
    rds: { route_config_name: name, config_source: ADS },
    http_filters: [
      ...filters.map((f) =>
        "ecds" in f
          ? { name: f.ecds, config_discovery: { config_source: ADS, type_urls: [EXTENSION_TYPE_URLS.httpWasm] } }
          : { name: f.name, typed_config: f.inline },
      ),
      { name: "envoy.filters.http.router", typed_config: packAny("envoy.extensions.filters.http.router.v3.Router", {}) },
    ],
  });
  return listenerOf(name, port, [{ name: "envoy.filters.network.http_connection_manager", typed_config: hcm }]);
}

/** A TCP listener: network ECDS filters, then tcp_proxy to `cluster`. */
export function tcpListener(name: string, port: number, ecdsNames: string[], cluster: string): Res {
  return listenerOf(name, port, [
    ...ecdsNames.map((n) => ({ name: n, config_discovery: { config_source: ADS, type_urls: [EXTENSION_TYPE_URLS.networkWasm] } })),
    { name: "envoy.filters.network.tcp_proxy", typed_config: packAny("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", { stat_prefix: name, cluster }) },
  ]);
}

function listenerOf(name: string, port: number, filters: object[]): Res {
  return res("envoy.config.listener.v3.Listener", name, {
    name,
    address: { socket_address: { address: "127.0.0.1", port_value: port } },
    filter_chains: [{ filters }],
  });
}

/** A module server: serves bytes by path and counts requests. */
export interface ModuleHttpServer {
  readonly port: number;
  readonly hits: Map<string, number>;
  serve(path: string, body: Buffer): void;
  close(): Promise<void>;
}

export async function startModuleHttpServer(): Promise<ModuleHttpServer> {
  const bodies = new Map<string, Buffer>();
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = bodies.get(path);
    res.writeHead(body ? 200 : 404);
    res.end(body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    serve: (path, body) => bodies.set(path, body),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export { sha256Hex, TYPE_URLS };
