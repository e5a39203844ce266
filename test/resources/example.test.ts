/**
 * The resources for a config shaped like the bundled example: an inline HTTP
 * filter and a remote network filter, both over ECDS. Every field asserted on
 * the decoded bytes.
 */
import { describe, expect, it } from "vitest";
import type { HttpConnectionManager__Output } from "../../src/generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager";
import type { TcpProxy__Output } from "../../src/generated/envoy/extensions/filters/network/tcp_proxy/v3/TcpProxy";
import { unpackAny } from "../../src/proto/registry";
import { EXTENSION_TYPE_URLS } from "../../src/vocabulary/type-urls";
import { decodeYaml, fakeModule, must, pluginOf, stringValueOf } from "../helpers/decoded";

const http = fakeModule("h");
const network = fakeModule("n");
const modules = new Map([
  ["add-header", http],
  ["conn-guard", network],
]);

const YAML = `
filters:
  - name: add-header
    kind: http
    module: modules/add_header.wasm
    rootId: add_header
    configuration: { header: x-wasmxds, value: hello }
    code: inline
  - name: conn-guard
    kind: network
    module: modules/conn_guard.wasm
    rootId: conn_guard
    configuration: { maxBytes: 10 }
    code: remote
listeners:
  - name: ingress
    address: 127.0.0.1:10000
    http: { filters: [add-header], routes: [{ prefix: /, cluster: backend }, { path: /exact, cluster: backend }] }
  - name: tcp-in
    address: 127.0.0.1:10001
    tcp: { filters: [conn-guard], cluster: backend }
clusters:
  - name: backend
    endpoints: [127.0.0.1:8080]
`;

const ADS = { ads: {}, resource_api_version: "V3" };

describe("resources for the example", () => {
  const d = decodeYaml(YAML, modules);

  it("has exactly the expected resources", () => {
    expect([...d.clusters.keys()]).toEqual(["backend", "wasmxds_modules"]);
    expect([...d.endpoints.keys()]).toEqual(["backend"]);
    expect([...d.extensions.keys()]).toEqual(["add-header", "conn-guard"]);
    expect([...d.listeners.keys()]).toEqual(["ingress", "tcp-in"]);
    expect([...d.routes.keys()]).toEqual(["ingress"]);
  });

  it("makes backend an EDS cluster over ADS with its load assignment", () => {
    const backend = must(d.clusters.get("backend"));
    expect(backend.type).toBe("EDS");
    expect(backend.eds_cluster_config).toMatchObject({ eds_config: ADS, service_name: "" });
    expect(backend.connect_timeout).toEqual({ seconds: "5", nanos: 0 });
    expect(backend.load_assignment).toBeNull();
    const cla = must(d.endpoints.get("backend"));
    expect(cla.cluster_name).toBe("backend");
    expect(cla.endpoints).toHaveLength(1);
    const lb = cla.endpoints[0]?.lb_endpoints ?? [];
    expect(lb.map((e) => e.endpoint?.address?.socket_address)).toMatchObject([{ address: "127.0.0.1", port_value: 8080 }]);
  });

  it("adds the module server cluster for remote code", () => {
    const modulesCluster = must(d.clusters.get("wasmxds_modules"));
    expect(modulesCluster.type).toBe("STATIC");
    expect(modulesCluster.connect_timeout).toEqual({ seconds: "5", nanos: 0 });
    const lb = modulesCluster.load_assignment?.endpoints[0]?.lb_endpoints ?? [];
    expect(modulesCluster.load_assignment?.cluster_name).toBe("wasmxds_modules");
    expect(lb.map((e) => e.endpoint?.address?.socket_address)).toMatchObject([{ address: "127.0.0.1", port_value: 18002 }]);
  });

  it("serves the inline HTTP filter over ECDS", () => {
    const ext = must(d.extensions.get("add-header"));
    expect(ext.name).toBe("add-header");
    expect(ext.typed_config?.type_url).toBe(EXTENSION_TYPE_URLS.httpWasm);
    const plugin = pluginOf(ext.typed_config);
    const sha8 = http.sha256.slice(0, 8);
    expect(plugin.name).toBe(`add-header@${sha8}`);
    expect(plugin.root_id).toBe("add_header");
    expect(stringValueOf(plugin.configuration)).toBe('{"header":"x-wasmxds","value":"hello"}');
    expect(plugin.configuration?.type_url).toBe(EXTENSION_TYPE_URLS.stringValue);
    expect(plugin.failure_policy).toBe("FAIL_CLOSED");
    expect(plugin.fail_open).toBe(false);
    expect(plugin.reload_config).toBeNull();
    const vm = must(plugin.vm_config);
    expect(vm.vm_id).toBe(`add-header@${sha8}`);
    expect(vm.runtime).toBe("envoy.wasm.runtime.v8");
    expect(vm.configuration).toBeNull();
    expect(vm.nack_on_code_cache_miss).toBe(false);
    expect(vm.code?.specifier).toBe("local");
    expect(Buffer.from(must(vm.code?.local?.inline_bytes)).equals(Buffer.from(http.bytes))).toBe(true);
  });

  it("serves the remote network filter over ECDS with uri, cluster, sha256, timeout and retries", () => {
    const ext = must(d.extensions.get("conn-guard"));
    expect(ext.typed_config?.type_url).toBe(EXTENSION_TYPE_URLS.networkWasm);
    const plugin = pluginOf(ext.typed_config);
    const sha8 = network.sha256.slice(0, 8);
    expect(plugin.name).toBe(`conn-guard@${sha8}`);
    expect(plugin.root_id).toBe("conn_guard");
    expect(stringValueOf(plugin.configuration)).toBe('{"maxBytes":10}');
    expect(plugin.failure_policy).toBe("FAIL_CLOSED");
    const vm = must(plugin.vm_config);
    expect(vm.vm_id).toBe(`conn-guard@${sha8}`);
    expect(vm.vm_id).toContain(network.sha256.slice(0, 8));
    expect(vm.code?.specifier).toBe("remote");
    const remote = must(vm.code?.remote);
    expect(remote.sha256).toBe(network.sha256);
    expect(remote.http_uri?.uri).toBe(`http://127.0.0.1:18002/modules/${network.sha256}.wasm`);
    expect(remote.http_uri?.cluster).toBe("wasmxds_modules");
    expect(remote.http_uri?.timeout).toEqual({ seconds: "10", nanos: 0 });
    expect(remote.retry_policy?.num_retries).toEqual({ value: 3 });
    expect(remote.retry_policy?.retry_back_off).toEqual({
      base_interval: { seconds: "1", nanos: 0 },
      max_interval: { seconds: "10", nanos: 0 },
    });
  });

  it("builds the HTTP listener: wasm filters via ECDS, then the router; routes over RDS", () => {
    const listener = must(d.listeners.get("ingress"));
    expect(listener.address?.socket_address).toMatchObject({ address: "127.0.0.1", port_value: 10000 });
    expect(listener.filter_chains).toHaveLength(1);
    const filters = listener.filter_chains[0]?.filters ?? [];
    expect(filters.map((f) => f.name)).toEqual(["envoy.filters.network.http_connection_manager"]);
    expect(filters[0]?.typed_config?.type_url).toBe(EXTENSION_TYPE_URLS.httpConnectionManager);
    const hcm = unpackAny<HttpConnectionManager__Output>(must(filters[0]?.typed_config));
    expect(hcm.stat_prefix).toBe("ingress");
    expect(hcm.rds).toEqual({ route_config_name: "ingress", config_source: expect.objectContaining(ADS) });
    expect(hcm.http_filters.map((f) => f.name)).toEqual(["add-header", "envoy.filters.http.router"]);
    const wasm = must(hcm.http_filters[0]);
    expect(wasm.config_type).toBe("config_discovery");
    expect(wasm.typed_config).toBeUndefined();
    expect(wasm.config_discovery?.config_source).toMatchObject(ADS);
    expect(wasm.config_discovery?.type_urls).toEqual([EXTENSION_TYPE_URLS.httpWasm]);
    expect(wasm.config_discovery?.default_config).toBeNull();
    expect(hcm.http_filters[1]?.typed_config?.type_url).toBe(EXTENSION_TYPE_URLS.router);

    const route = must(d.routes.get("ingress"));
    expect(route.virtual_hosts).toHaveLength(1);
    expect(route.virtual_hosts[0]?.domains).toEqual(["*"]);
    const routes = route.virtual_hosts[0]?.routes ?? [];
    expect(routes.map((r) => [r.match?.path_specifier, r.match?.prefix || r.match?.path, r.route?.cluster])).toEqual([
      ["prefix", "/", "backend"],
      ["path", "/exact", "backend"],
    ]);
  });

  it("builds the TCP listener: wasm network filters via ECDS, then tcp_proxy", () => {
    const listener = must(d.listeners.get("tcp-in"));
    expect(listener.address?.socket_address).toMatchObject({ address: "127.0.0.1", port_value: 10001 });
    const filters = listener.filter_chains[0]?.filters ?? [];
    expect(filters.map((f) => f.name)).toEqual(["conn-guard", "envoy.filters.network.tcp_proxy"]);
    expect(filters[0]?.config_discovery?.config_source).toMatchObject(ADS);
    expect(filters[0]?.config_discovery?.type_urls).toEqual([EXTENSION_TYPE_URLS.networkWasm]);
    const tcp = unpackAny<TcpProxy__Output>(must(filters[1]?.typed_config));
    expect(tcp.stat_prefix).toBe("tcp-in");
    expect(tcp.cluster).toBe("backend");
  });
});
