/**
 * What bytes a module's proxy_on_configure reads for each type of
 * PluginConfig.configuration (MessageUtil::anyToBytes, used by Plugin in
 * source/extensions/common/wasm/plugin.h, Envoy 1.33 and main;
 * docs/ENVOY.md "Plugin configuration bytes"): a StringValue arrives as its
 * string, a BytesValue as its bytes, and a google.protobuf.Struct as its
 * serialized protobuf bytes, not as JSON (whatever the proto comment says).
 * The configure_false fixture accepts only the JSON text {"ok":true}, so a
 * Struct {ok: true} makes it refuse to configure, and Envoy NACKs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeMessage, packAny } from "../../src/proto/registry";
import { EXTENSION_TYPE_URLS } from "../../src/vocabulary/type-urls";
import { NACK_CODE, SimNode } from "../../src/sim";
import { configurationBytes } from "../../src/sim/wasm/plugin-spec";
import { ecds, httpListener, moduleBytes, routeConfig, staticCluster, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { type AnyMessage, RawAdsServer } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;
const STRUCT_OK = packAny("google.protobuf.Struct", { fields: { ok: { bool_value: true } } });

/** configure_false with the given PluginConfig.configuration Any. */
function configured(plugin: string, configuration: AnyMessage): AnyMessage {
  const typeUrl = EXTENSION_TYPE_URLS.httpWasm;
  return {
    type_url: typeUrl,
    value: encodeMessage(typeUrl.split("/")[1] as string, {
      config: {
        name: plugin,
        root_id: "configure_false",
        vm_config: { vm_id: plugin, runtime: "envoy.wasm.runtime.v8", code: { local: { inline_bytes: moduleBytes("configure_false") } } },
        configuration,
      },
    }),
  };
}

describe("plugin configuration bytes", () => {
  let server: RawAdsServer;
  let node: SimNode;
  let version = 1;

  const push = async (typed: AnyMessage) => {
    const nonce = server.respond(T.extensionConfig, `x${++version}`, [ecds("f1", typed).any]);
    return (await server.next((r) => r.req.type_url === T.extensionConfig && r.req.response_nonce === nonce)).req;
  };

  beforeAll(async () => {
    server = await RawAdsServer.start();
    server.set(T.cluster, "c1", [staticCluster("backend", 8080)]);
    server.set(T.listener, "l1", [httpListener("ingress", 10000, [{ ecds: "f1" }])]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend")]);
    server.set(T.extensionConfig, "x1", [ecds("f1", wasmAny("http", { plugin: "good", rootId: "good_http", code: { inline: moduleBytes("good_http") } }))]);
    node = new SimNode({ id: "struct", xdsAddress: server.address });
    await node.start();
    await waitFor("LIVE", () => node.serverState === "LIVE");
  });

  afterAll(async () => {
    await node.stop();
    await server.close();
  });

  it("passes a Struct as its serialized protobuf bytes, not JSON", () => {
    expect(Buffer.from(configurationBytes(STRUCT_OK))).toEqual(STRUCT_OK.value);
    expect(Buffer.from(configurationBytes(STRUCT_OK)).toString()).not.toBe('{"ok":true}');
  });

  it("a module expecting JSON refuses a Struct configuration, and the update is NACKed", async () => {
    const req = await push(configured("struct@1", STRUCT_OK));
    expect(req.error_detail).toMatchObject({ code: NACK_CODE, message: "Unable to create Wasm plugin struct@1" });
  });

  it("unwraps a StringValue to its string and a BytesValue to its bytes", async () => {
    expect((await push(configured("string@1", packAny("google.protobuf.StringValue", { value: '{"ok":true}' })))).error_detail).toBeNull();
    expect((await push(configured("bytes@1", packAny("google.protobuf.BytesValue", { value: Buffer.from('{"ok":true}') })))).error_detail).toBeNull();
    expect(node.plugins().map((p) => p.name)).toEqual(["bytes@1"]);
  });
});
