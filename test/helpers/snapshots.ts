/** Small, consistent xDS resource sets for protocol tests. */
import { packAny } from "../../src/proto/registry";
import { EXTENSION_TYPE_URLS, TYPE_URLS } from "../../src/vocabulary/type-urls";
import type { SnapshotInput } from "../../src/cache/snapshot";

const ADS = { ads: {}, resource_api_version: "V3" };

export function cluster(name: string): { name: string; message: Record<string, unknown> } {
  return {
    name,
    message: { name, type: "EDS", eds_cluster_config: { eds_config: ADS }, connect_timeout: { seconds: 1 } },
  };
}

export function endpoints(name: string, port: number, host = "127.0.0.1") {
  return {
    name,
    message: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }],
    },
  };
}

export function route(name: string, clusterName: string) {
  return {
    name,
    message: {
      name,
      virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: clusterName } }] }],
    },
  };
}

export function extensionConfig(name: string, header: string) {
  // Any TypedExtensionConfig payload will do for protocol tests: a StringValue.
  return {
    name,
    message: { name, typed_config: packAny("google.protobuf.StringValue", { value: header }) },
  };
}

export function listener(name: string, port: number, routeName: string, ecdsNames: string[]) {
  const hcm = packAny("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", {
    stat_prefix: name,
    rds: { route_config_name: routeName, config_source: ADS },
    http_filters: [
      ...ecdsNames.map((n) => ({
        name: n,
        config_discovery: { config_source: ADS, type_urls: [EXTENSION_TYPE_URLS.httpWasm] },
      })),
      { name: "envoy.filters.http.router", typed_config: packAny("envoy.extensions.filters.http.router.v3.Router", {}) },
    ],
  });
  return {
    name,
    message: {
      name,
      address: { socket_address: { address: "127.0.0.1", port_value: port } },
      filter_chains: [{ filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: hcm }] }],
    },
  };
}

/** A consistent snapshot input: one listener, its route, cluster, endpoints and one ECDS filter. */
export function basicInput(opts: { endpointPort?: number; header?: string; listenerPort?: number } = {}): SnapshotInput {
  return {
    [TYPE_URLS.cluster]: [cluster("backend")],
    [TYPE_URLS.endpoint]: [endpoints("backend", opts.endpointPort ?? 8080)],
    [TYPE_URLS.extensionConfig]: [extensionConfig("f1", opts.header ?? "x-one")],
    [TYPE_URLS.listener]: [listener("ingress", opts.listenerPort ?? 10000, "ingress", ["f1"])],
    [TYPE_URLS.route]: [route("ingress", "backend")],
  };
}
