/**
 * Code delivery over ECDS (issue 12 point 1; docs/ENVOY.md, "Remote code over
 * ECDS"): remote code in an ECDS update that reaches a warm listener is never
 * fetched and Envoy leaves the filter out of the chain without a NACK. So
 * `code: auto` over ECDS always sends inline code, up to
 * server.maxInlineBytes (default 16 MiB), and refuses a larger module naming
 * the ways out; `code: remote` over ECDS asks Envoy to NACK a cache miss
 * (vm_config.nack_on_code_cache_miss), and a re-push differs only in the
 * remote URI's query. Regressions: auto sent modules over 256 KiB as remote
 * code over ECDS, and remote code over ECDS never set nack_on_code_cache_miss.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import type { HttpConnectionManager__Output } from "../../src/generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager";
import { unpackAny } from "../../src/proto/registry";
import { ModuleError } from "../../src/errors";
import { buildResources } from "../../src/resources/build";
import { MODULE_SERVER, decode, decodeYaml, fakeModule, must, pluginOf } from "../helpers/decoded";

function yaml(fields: string, server = ""): string {
  return `
${server}
filters:
  - { name: auth, kind: http, module: m.wasm, ${fields} }
listeners:
  - { name: l, address: '127.0.0.1:10000', http: { filters: [auth], routes: [{ prefix: /, cluster: c }] } }
clusters:
  - { name: c, endpoints: ["127.0.0.1:8080"] }
`;
}

const large = fakeModule("l", 1024 * 1024);

describe("code over ECDS", () => {
  it("auto sends a module over 256 KiB inline over ECDS, with no module cluster", () => {
    const d = decodeYaml(yaml("code: auto"), new Map([["auth", large]]));
    const vm = must(pluginOf(d.extensions.get("auth")?.typed_config).vm_config);
    expect(vm.code?.specifier).toBe("local");
    expect(vm.code?.local?.inline_bytes?.length).toBe(large.bytes.length);
    expect(vm.nack_on_code_cache_miss).toBe(false);
    expect([...d.clusters.keys()]).toEqual(["c"]);
  });

  it("defaults server.maxInlineBytes to 16 MiB and refuses a larger module, naming the filter, size, limit and choices", () => {
    expect(parseConfig(yaml("code: auto")).server.maxInlineBytes).toBeUndefined();
    const atLimit = fakeModule("x", 16 * 1024 * 1024);
    expect(() => decodeYaml(yaml("code: auto"), new Map([["auth", atLimit]]))).not.toThrow();
    const over = fakeModule("y", 16 * 1024 * 1024 + 1);
    let error: unknown;
    try {
      decodeYaml(yaml("code: auto"), new Map([["auth", over]]));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ModuleError);
    const message = (error as ModuleError).message;
    expect((error as ModuleError).code).toBe("MODULE_TOO_LARGE");
    expect(message).toContain(`filter "auth": module ${over.sha256.slice(0, 8)} is 16777217 bytes, over server.maxInlineBytes (16777216)`);
    expect(message).toContain("raise server.maxInlineBytes");
    expect(message).toContain("discovery: listener with code: remote");
    expect(message).toContain("code: remote to keep ECDS");
  });

  it("honours a lower server.maxInlineBytes, also for code: inline", () => {
    const config = parseConfig(yaml("code: inline", "server: { maxInlineBytes: 1000 }"));
    expect(config.server.maxInlineBytes).toBe(1000);
    expect(() => buildResources({ config, modules: new Map([["auth", fakeModule("z", 1001)]]), moduleServer: MODULE_SERVER })).toThrow(
      /over server\.maxInlineBytes \(1000\)/,
    );
    expect(() => buildResources({ config, modules: new Map([["auth", fakeModule("z", 1000)]]), moduleServer: MODULE_SERVER })).not.toThrow();
  });

  it("refuses a maxInlineBytes that is not a whole positive number", () => {
    expect(() => parseConfig(yaml("code: auto", "server: { maxInlineBytes: 0 }"))).toThrow("wasmxds.yaml: server.maxInlineBytes: expected at least 1 byte");
    expect(() => parseConfig(yaml("code: auto", "server: { maxInlineBytes: 1.5 }"))).toThrow("server.maxInlineBytes: expected a whole number of bytes");
  });

  it("code: remote over ECDS sets nack_on_code_cache_miss; a re-push differs only in the URI's query", () => {
    const config = parseConfig(yaml("code: remote"));
    const modules = new Map([["auth", large]]);
    const base = decode({ config, modules, moduleServer: MODULE_SERVER });
    const again = decode({ config, modules, moduleServer: MODULE_SERVER, repushes: new Map([["auth", 1]]) });
    const vm = must(pluginOf(base.extensions.get("auth")?.typed_config).vm_config);
    const vm1 = must(pluginOf(again.extensions.get("auth")?.typed_config).vm_config);
    expect(vm.nack_on_code_cache_miss).toBe(true);
    expect(vm.code?.remote?.http_uri?.uri).toBe(`http://127.0.0.1:18002/modules/${large.sha256}.wasm`);
    expect(vm1.code?.remote?.http_uri?.uri).toBe(`http://127.0.0.1:18002/modules/${large.sha256}.wasm?repush=1`);
    // Everything the module sees, and the VM key, is the same.
    const strip = (p: ReturnType<typeof pluginOf>) => ({ ...p, vm_config: { ...p.vm_config, code: { ...p.vm_config?.code, remote: { ...p.vm_config?.code?.remote, http_uri: null } } } });
    expect(strip(pluginOf(again.extensions.get("auth")?.typed_config))).toEqual(strip(pluginOf(base.extensions.get("auth")?.typed_config)));
    expect(again.versions.get("type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig auth")).not.toBe(
      base.versions.get("type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig auth"),
    );
    // Other resources are untouched.
    expect(again.versions.get("type.googleapis.com/envoy.config.listener.v3.Listener l")).toBe(base.versions.get("type.googleapis.com/envoy.config.listener.v3.Listener l"));
  });

  it("code: remote in a listener keeps Envoy's default (the warming listener waits for the fetch)", () => {
    const d = decodeYaml(yaml("code: remote, discovery: listener"), new Map([["auth", large]]));
    const hcm = unpackAny<HttpConnectionManager__Output>(must(must(d.listeners.get("l")).filter_chains[0]?.filters[0]?.typed_config));
    const vm = must(pluginOf(hcm.http_filters[0]?.typed_config).vm_config);
    expect(vm.code?.specifier).toBe("remote");
    expect(vm.nack_on_code_cache_miss).toBe(false);
    expect(d.extensions.size).toBe(0);
    expect(d.clusters.has("wasmxds_modules")).toBe(true);
  });
});
