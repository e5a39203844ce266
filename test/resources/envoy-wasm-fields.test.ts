/**
 * Issue 21: runtime, allowPrecompiled, env and hostPath reach Envoy exactly.
 * The whole control plane serves a folder; a raw ADS client decodes the ECDS
 * resource on the Envoy protos, the way Envoy receives it.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient, resourcesOf } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";
import { removeFolder, tempConfigFolder } from "../helpers/config-folder";
import { must, pluginOf } from "../helpers/decoded";
import { fixture } from "../helpers/wasm-bytes";

const good = fixture("good_http");
const SHA = sha256Hex(good);

function yaml(filterFields: string): string {
  return `
filters:
  - name: f
    kind: http
${filterFields
  .trim()
  .split("\n")
  .map((l) => `    ${l}`)
  .join("\n")}
listeners:
  - { name: l, address: '127.0.0.1:10000', http: { filters: [f], routes: [{ prefix: /, cluster: c }] } }
clusters:
  - { name: c, endpoints: ["127.0.0.1:8080"] }
`;
}

describe("Envoy Wasm fields as served", () => {
  const apps: RunningWasmxds[] = [];
  const clients: AdsClient[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const a of apps.splice(0)) await a.close();
    for (const d of dirs.splice(0)) await removeFolder(d);
  });

  async function served(fields: string, files: Record<string, Uint8Array | string> = { "m.wasm": good }) {
    const dir = await tempConfigFolder({ ...files, "wasmxds.yaml": yaml(fields) });
    dirs.push(dir);
    const app = await startTestApp(dir, { stateDir: null });
    apps.push(app);
    const client = new AdsClient(app.xdsAddress.port, { id: "edge-1", cluster: "edge" });
    clients.push(client);
    client.request({ typeUrl: TYPE_URLS.extensionConfig, names: ["f"] });
    const resp = await client.next(TYPE_URLS.extensionConfig);
    const ext = must(resourcesOf<{ typed_config: Parameters<typeof pluginOf>[0] }>(resp)[0], "ECDS resource");
    return pluginOf(ext.message.typed_config);
  }

  it("sends runtime, allow_precompiled and environment_variables", async () => {
    const plugin = await served(`
module: m.wasm
runtime: wamr
allowPrecompiled: true
env: { hostKeys: [POD_NAME, POD_NAMESPACE], values: { REGION: eu-west-1, MODE: strict } }
preflightEnv: { POD_NAME: edge-1 }`);
    const vm = must(plugin.vm_config, "vm_config");
    expect(vm.runtime).toBe("envoy.wasm.runtime.wamr");
    expect(vm.allow_precompiled).toBe(true);
    expect(vm.environment_variables?.host_env_keys).toEqual(["POD_NAME", "POD_NAMESPACE"]);
    expect(vm.environment_variables?.key_values).toEqual({ REGION: "eu-west-1", MODE: "strict" });
    // preflightEnv is for the check only: it never reaches Envoy.
    expect(JSON.stringify(plugin)).not.toContain("edge-1");
    // The check's result, as users see it in the event log, says it ran in V8 and not in wamr.
    const passed = must(apps[0], "app").events.list({ types: ["preflight-passed"] })[0];
    expect(passed?.message).toMatch(/^f [0-9a-f]{8} passed; checked in V8, but Envoy runs this filter in wamr/);
    expect(passed?.details).toMatchObject({ runtime: "wamr" });
  });

  it("defaults to v8, no allow_precompiled and no environment", async () => {
    const vm = must((await served("module: m.wasm")).vm_config, "vm_config");
    expect(vm.runtime).toBe("envoy.wasm.runtime.v8");
    expect(vm.allow_precompiled).toBe(false);
    expect(vm.environment_variables).toBeNull();
  });

  it("hostPath without a copy: code.local.filename, short sha in vm_id and plugin name", async () => {
    const plugin = await served(`
hostPath: /var/local/lib/wasm-filters/example.wasm
sha256: ${SHA}
vmId: edge`, {});
    const code = plugin.vm_config?.code;
    expect(code?.local?.filename).toBe("/var/local/lib/wasm-filters/example.wasm");
    expect(code?.local?.specifier).toBe("filename");
    expect(code?.remote ?? null).toBeNull();
    expect(plugin.name).toBe(`f@${SHA.slice(0, 8)}`);
    expect(plugin.vm_config?.vm_id).toBe(`edge@${SHA.slice(0, 8)}`);
  });

  it("hostPath with a module copy: the copy is not sent, the file name is", async () => {
    const plugin = await served(`
hostPath: /var/local/lib/wasm-filters/example.wasm
module: m.wasm
sha256: ${SHA}`);
    expect(plugin.vm_config?.code?.local?.filename).toBe("/var/local/lib/wasm-filters/example.wasm");
    expect(plugin.vm_config?.code?.local?.inline_bytes ?? null).toBeNull();
    expect(plugin.name).toBe(`f@${SHA.slice(0, 8)}`);
  });

  it("refuses a hostPath whose module copy has another sha256, naming file and field", async () => {
    const dir = await tempConfigFolder({
      "m.wasm": good,
      "wasmxds.yaml": yaml(`hostPath: /opt/f.wasm\nmodule: m.wasm\nsha256: ${"b".repeat(64)}`),
    });
    dirs.push(dir);
    await expect(startTestApp(dir, { stateDir: null })).rejects.toThrow(`wasmxds.yaml: filters[0].sha256: expected the sha256 of m.wasm, which is ${SHA}`);
  });
});
