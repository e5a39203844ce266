/**
 * Resource variants: listener discovery, failure policies, VM settings, code
 * delivery (inline, remote, auto, url), the module cluster, DNS and HTTP/2
 * clusters. Asserted on decoded bytes.
 */
import { describe, expect, it } from "vitest";
import type { HttpConnectionManager__Output } from "../../src/generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager";
import type { HttpProtocolOptions__Output } from "../../src/generated/envoy/extensions/upstreams/http/v3/HttpProtocolOptions";
import { parseConfig } from "../../src/config/parse";
import { SnapshotError } from "../../src/errors";
import { unpackAny } from "../../src/proto/registry";
import { buildResources } from "../../src/resources/build";
import { EXTENSION_TYPE_URLS } from "../../src/vocabulary/type-urls";
import { MODULE_SERVER, decodeYaml, fakeModule, must, pluginOf, stringValueOf } from "../helpers/decoded";

const mod = fakeModule("m");

/** One filter `f` (fields given) used by an HTTP listener `l`, or a TCP listener when kind is network. */
function config(filterFields: string, kind: "http" | "network" = "http", extra = ""): string {
  const listener =
    kind === "http"
      ? "{ name: l, address: '127.0.0.1:10000', http: { filters: [f], routes: [{ prefix: /, cluster: c }] } }"
      : "{ name: l, address: '127.0.0.1:10000', tcp: { filters: [f], cluster: c } }";
  return `
${extra}
filters:
  - { name: f, kind: ${kind}, ${filterFields} }
listeners:
  - ${listener}
clusters:
  - { name: c, endpoints: ["127.0.0.1:8080"] }
`;
}

const withModule = new Map([["f", mod]]);

function httpWasmFilter(listener: ReturnType<typeof decodeYaml>["listeners"] extends Map<string, infer L> ? L : never) {
  const hcm = unpackAny<HttpConnectionManager__Output>(must(listener.filter_chains[0]?.filters[0]?.typed_config));
  return must(hcm.http_filters[0]);
}

describe("discovery: listener", () => {
  it("writes the HTTP Wasm config into the listener and serves no ECDS resource", () => {
    const d = decodeYaml(config("module: m.wasm, discovery: listener, code: inline"), withModule);
    expect([...d.extensions.keys()]).toEqual([]);
    const filter = httpWasmFilter(must(d.listeners.get("l")));
    expect(filter.name).toBe("f");
    expect(filter.config_type).toBe("typed_config");
    expect(filter.config_discovery).toBeUndefined();
    expect(filter.typed_config?.type_url).toBe(EXTENSION_TYPE_URLS.httpWasm);
    const plugin = pluginOf(filter.typed_config);
    expect(plugin.name).toBe(`f@${mod.sha256.slice(0, 8)}`);
    expect(plugin.vm_config?.code?.specifier).toBe("local");
  });

  it("writes the network Wasm config into the TCP listener's filter chain", () => {
    const d = decodeYaml(config("module: m.wasm, discovery: listener, code: remote", "network"), withModule);
    expect([...d.extensions.keys()]).toEqual([]);
    const filters = must(d.listeners.get("l")).filter_chains[0]?.filters ?? [];
    expect(filters.map((f) => f.name)).toEqual(["f", "envoy.filters.network.tcp_proxy"]);
    expect(filters[0]?.typed_config?.type_url).toBe(EXTENSION_TYPE_URLS.networkWasm);
    const remote = must(pluginOf(filters[0]?.typed_config).vm_config?.code?.remote);
    expect(remote.sha256).toBe(mod.sha256);
    expect(remote.http_uri?.cluster).toBe("wasmxds_modules");
    expect([...d.clusters.keys()]).toEqual(["c", "wasmxds_modules"]);
  });
});

describe("plugin settings", () => {
  it("sets failure_policy, never fail_open", () => {
    for (const policy of ["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"] as const) {
      const d = decodeYaml(config(`module: m.wasm, failurePolicy: ${policy}`), withModule);
      const plugin = pluginOf(d.extensions.get("f")?.typed_config);
      expect(plugin.failure_policy).toBe(policy);
      expect(plugin.fail_open).toBe(false);
      expect(plugin.reload_config).toBeNull();
    }
  });

  it("sets reload_config for FAIL_RELOAD with reloadBackoff", () => {
    const d = decodeYaml(config("module: m.wasm, failurePolicy: FAIL_RELOAD, reloadBackoff: { base: 250ms, max: 1m }"), withModule);
    const plugin = pluginOf(d.extensions.get("f")?.typed_config);
    // max is accepted but never sent: FAIL_RELOAD reads only base_interval (reload-backoff.test.ts).
    expect(plugin.reload_config?.backoff).toEqual({
      base_interval: { seconds: "0", nanos: 250_000_000 },
      max_interval: null,
    });
    const noMax = decodeYaml(config("module: m.wasm, failurePolicy: FAIL_RELOAD, reloadBackoff: { base: 2s }"), withModule);
    expect(pluginOf(noMax.extensions.get("f")?.typed_config).reload_config?.backoff).toEqual({
      base_interval: { seconds: "2", nanos: 0 },
      max_interval: null,
    });
  });

  it("keeps the module sha in a user vm_id and passes the VM configuration as a StringValue", () => {
    const d = decodeYaml(config("module: m.wasm, vmId: shared, vmConfiguration: { a: 1 }, rootId: r"), withModule);
    const plugin = pluginOf(d.extensions.get("f")?.typed_config);
    expect(plugin.vm_config?.vm_id).toBe(`shared@${mod.sha256.slice(0, 8)}`);
    expect(plugin.vm_config?.configuration?.type_url).toBe(EXTENSION_TYPE_URLS.stringValue);
    expect(stringValueOf(plugin.vm_config?.configuration)).toBe('{"a":1}');
    expect(plugin.configuration).toBeNull();
    expect(plugin.root_id).toBe("r");
  });

  it("gives a new module a new vm_id and plugin name", () => {
    const other = fakeModule("o");
    const a = pluginOf(decodeYaml(config("module: m.wasm"), withModule).extensions.get("f")?.typed_config);
    const b = pluginOf(decodeYaml(config("module: m.wasm"), new Map([["f", other]])).extensions.get("f")?.typed_config);
    expect(a.vm_config?.vm_id).not.toBe(b.vm_config?.vm_id);
    expect(a.name).not.toBe(b.name);
    expect(b.vm_config?.vm_id).toBe(`f@${other.sha256.slice(0, 8)}`);
  });
});

describe("code delivery", () => {
  it("auto in a listener sends modules up to 256 KiB inline and larger ones remote (over ECDS: inline-limit.test.ts)", () => {
    const small = fakeModule("s", 256 * 1024);
    const large = fakeModule("l", 256 * 1024 + 1);
    const inline = decodeYaml(config("module: m.wasm, discovery: listener"), new Map([["f", small]]));
    expect(pluginOf(httpWasmFilter(must(inline.listeners.get("l"))).typed_config).vm_config?.code?.specifier).toBe("local");
    expect([...inline.clusters.keys()]).toEqual(["c"]);
    const remote = decodeYaml(config("module: m.wasm, discovery: listener"), new Map([["f", large]]));
    expect(pluginOf(httpWasmFilter(must(remote.listeners.get("l"))).typed_config).vm_config?.code?.remote?.sha256).toBe(large.sha256);
    expect([...remote.clusters.keys()]).toEqual(["c", "wasmxds_modules"]);
  });

  it("serves url modules from the module server by their sha256", () => {
    const yaml = config(`url: 'https://artifacts.example/x.wasm', sha256: ${mod.sha256}, code: remote`);
    const d = decodeYaml(yaml, new Map());
    const remote = must(pluginOf(d.extensions.get("f")?.typed_config).vm_config?.code?.remote);
    expect(remote.http_uri?.uri).toBe(`http://127.0.0.1:18002/modules/${mod.sha256}.wasm`);
    expect(remote.sha256).toBe(mod.sha256);
    const inline = decodeYaml(config(`url: 'https://artifacts.example/x.wasm', sha256: ${mod.sha256}, code: inline`), withModule);
    expect(pluginOf(inline.extensions.get("f")?.typed_config).vm_config?.code?.specifier).toBe("local");
  });

  it("refuses missing bytes and bytes that do not match the declared sha256", () => {
    const cfg = parseConfig(config(`url: 'https://artifacts.example/x.wasm', sha256: ${"b".repeat(64)}, code: inline`));
    expect(() => buildResources({ config: cfg, modules: new Map(), moduleServer: MODULE_SERVER })).toThrow(SnapshotError);
    expect(() => buildResources({ config: cfg, modules: withModule, moduleServer: MODULE_SERVER })).toThrow(
      `filter "f": module has sha256 ${mod.sha256}, but the config declares ${"b".repeat(64)}`,
    );
    const file = parseConfig(config("module: m.wasm"));
    expect(() => buildResources({ config: file, modules: new Map(), moduleServer: MODULE_SERVER })).toThrow(
      'filter "f": no module bytes were provided',
    );
  });

  it("adds the module cluster only when some served config uses remote code", () => {
    expect([...decodeYaml(config("module: m.wasm, code: inline"), withModule).clusters.keys()]).toEqual(["c"]);
    // An unused listener-discovery filter is never fetched.
    const unused = `
filters:
  - { name: f, kind: http, module: m.wasm, code: remote, discovery: listener }
clusters:
  - { name: c, endpoints: ["127.0.0.1:8080"] }
`;
    expect([...decodeYaml(unused, withModule).clusters.keys()]).toEqual(["c"]);
  });

  it("points remote code at modulesBaseUrl, brackets IPv6 and never at an unspecified address", () => {
    const base = decodeYaml(config("module: m.wasm, code: remote", "http", "server: { modulesBaseUrl: 'http://mods.internal:8080/wx' }"), withModule);
    const uri = pluginOf(base.extensions.get("f")?.typed_config).vm_config?.code?.remote?.http_uri?.uri;
    expect(uri).toBe(`http://mods.internal:8080/wx/modules/${mod.sha256}.wasm`);
    const cluster = must(base.clusters.get("wasmxds_modules"));
    expect(cluster.type).toBe("STRICT_DNS");
    expect(cluster.dns_lookup_family).toBe("V4_PREFERRED");
    expect(cluster.load_assignment?.endpoints[0]?.lb_endpoints[0]?.endpoint?.address?.socket_address).toMatchObject({
      address: "mods.internal",
      port_value: 8080,
    });

    const v6 = decodeYaml(config("module: m.wasm, code: remote"), withModule, { host: "::1", port: 18002 });
    expect(pluginOf(v6.extensions.get("f")?.typed_config).vm_config?.code?.remote?.http_uri?.uri).toBe(
      `http://[::1]:18002/modules/${mod.sha256}.wasm`,
    );
    const any = decodeYaml(config("module: m.wasm, code: remote"), withModule, { host: "0.0.0.0", port: 18002 });
    expect(must(any.clusters.get("wasmxds_modules")).load_assignment?.endpoints[0]?.lb_endpoints[0]?.endpoint?.address?.socket_address?.address).toBe(
      "127.0.0.1",
    );
  });
});

describe("clusters", () => {
  it("uses STRICT_DNS for hostname endpoints and HTTP/2 protocol options when asked", () => {
    const yaml = `
clusters:
  - { name: dns, endpoints: ["backend.internal:80", "127.0.0.1:81"], connectTimeout: 1500ms, http2: true }
`;
    const d = decodeYaml(yaml, new Map());
    expect([...d.endpoints.keys()]).toEqual([]);
    const cluster = must(d.clusters.get("dns"));
    expect(cluster.type).toBe("STRICT_DNS");
    expect(cluster.connect_timeout).toEqual({ seconds: "1", nanos: 500_000_000 });
    const lb = cluster.load_assignment?.endpoints[0]?.lb_endpoints ?? [];
    expect(lb.map((e) => e.endpoint?.address?.socket_address?.address)).toEqual(["backend.internal", "127.0.0.1"]);
    const opts = must(cluster.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]);
    expect(opts.type_url).toBe(EXTENSION_TYPE_URLS.httpProtocolOptions);
    const decoded = unpackAny<HttpProtocolOptions__Output>(opts);
    expect(decoded.explicit_http_config?.http2_protocol_options).not.toBeNull();
  });
});
