/**
 * The LDS NACK text is Envoy's, byte for byte: LdsApiImpl appends
 * `<listener name>: <why>` and a newline for every listener it could not
 * add or update, after `Error adding/updating listener(s) `
 * (source/common/listener_manager/lds_api.cc, Envoy 1.33 and main;
 * docs/ENVOY.md "LDS rejection text"). A control plane that matches NACK
 * messages must expect the trailing newline and one line per listener.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimNode } from "../../src/sim";
import { httpListener, moduleBytes, routeConfig, staticCluster, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { RawAdsServer } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;
const badWasm = (plugin: string) => wasmAny("http", { plugin, rootId: "configure_false", configuration: "{}", code: { inline: moduleBytes("configure_false") } });

describe("LDS NACK text", () => {
  let server: RawAdsServer;
  let node: SimNode;

  beforeAll(async () => {
    server = await RawAdsServer.start();
    server.set(T.cluster, "c1", [staticCluster("backend", 8080)]);
    server.set(T.listener, "l1", [httpListener("ingress", 10000, [])]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend")]);
    node = new SimNode({ id: "lds-text", xdsAddress: server.address });
    await node.start();
    await waitFor("LIVE", () => node.serverState === "LIVE");
  });

  afterAll(async () => {
    await node.stop();
    await server.close();
  });

  it("writes one `<name>: <why>` line per bad listener, each ending in a newline", async () => {
    const nonce = server.respond(T.listener, "l2", [
      httpListener("ingress", 10000, []).any,
      httpListener("a", 10001, [{ name: "fa", inline: badWasm("pa") }]).any,
      httpListener("b", 10002, [{ name: "fb", inline: badWasm("pb") }]).any,
      httpListener("b", 10003, []).any,
    ]);
    const nack = await server.next((r) => r.req.type_url === T.listener && r.req.response_nonce === nonce);
    expect(nack.req.error_detail?.message).toBe(
      "Error adding/updating listener(s) a: Unable to create Wasm plugin pa\nb: Unable to create Wasm plugin pb\nb: duplicate listener b found\n",
    );
    expect(nack.req.version_info).toBe("l1");
  });
});
