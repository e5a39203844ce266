/**
 * NACKs in Envoy's words against the raw ADS server: inline wasm that fails
 * on_configure or aborts in on_vm_start (`Unable to create Wasm plugin
 * <name>`), a filter config of the wrong type, a listener whose inline wasm
 * fails, duplicate clusters. Each NACK carries the previous version, the
 * rejected response's nonce and code 13, and the old config keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NACK_CODE, SimNode } from "../../src/sim";
import { ecds, httpListener, moduleBytes, routeConfig, staticCluster, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { RawAdsServer, type Recorded } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;
const inline = (module: Parameters<typeof moduleBytes>[0]) => ({ inline: moduleBytes(module) });

describe("NACKs with Envoy's messages", () => {
  let server: RawAdsServer;
  let node: SimNode;

  const nackOf = (type: string, nonce: string) => server.next((r: Recorded) => r.req.type_url === type && r.req.response_nonce === nonce);

  beforeAll(async () => {
    server = await RawAdsServer.start();
    server.set(T.cluster, "c1", [staticCluster("backend", 8080)]);
    server.set(T.listener, "l1", [httpListener("ingress", 10000, [{ ecds: "f1" }])]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend")]);
    server.set(T.extensionConfig, "x1", [
      ecds("f1", wasmAny("http", { plugin: "f1@good", rootId: "configure_false", configuration: '{"ok":true}', code: inline("configure_false") })),
    ]);
    node = new SimNode({ id: "nacker", xdsAddress: server.address });
    await node.start();
    await waitFor("LIVE", () => node.serverState === "LIVE");
  });

  afterAll(async () => {
    await node.stop();
    await server.close();
  });

  it("NACKs a module whose on_configure returns false, keeping the previous version serving", async () => {
    const bad = ecds("f1", wasmAny("http", { plugin: "f1@bad", rootId: "configure_false", configuration: '{"ok":false}', code: inline("configure_false") }));
    const nonce = server.respond(T.extensionConfig, "x2", [bad.any]);
    const nack = await nackOf(T.extensionConfig, nonce);
    expect(nack.req.version_info).toBe("x1");
    expect(nack.req.error_detail).toMatchObject({ code: NACK_CODE, message: "Unable to create Wasm plugin f1@bad" });
    expect(node.versions().ECDS).toBe("x1");
    expect(node.plugins().map((p) => p.name)).toEqual(["f1@good"]);
    expect(node.sendHttp()?.status).toBe(200);
    expect(node.nacks().at(-1)).toMatchObject({ rejectedVersion: "x2", keptVersion: "x1", message: "Unable to create Wasm plugin f1@bad" });
    expect(node.stats.get("extension_config_discovery.http_filter.f1.config_fail")).toBe(1);
  });

  it("NACKs a module that aborts in on_vm_start", async () => {
    const nonce = server.respond(T.extensionConfig, "x3", [ecds("f1", wasmAny("http", { plugin: "f1@abort", rootId: "abort_vm_start", code: inline("abort_vm_start") })).any]);
    const nack = await nackOf(T.extensionConfig, nonce);
    expect(nack.req.version_info).toBe("x1");
    expect(nack.req.error_detail?.message).toBe("Unable to create Wasm plugin f1@abort");
  });

  it("NACKs a filter config whose type the filter does not accept", async () => {
    const nonce = server.respond(T.extensionConfig, "x4", [ecds("f1", wasmAny("network", { plugin: "f1@net", rootId: "good_network", code: inline("good_network") })).any]);
    const nack = await nackOf(T.extensionConfig, nonce);
    expect(nack.req.error_detail?.message).toBe(
      "Error: filter config has type URL type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm but expect type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm.",
    );
  });

  it("accepts a good update after NACKs (ACK carries the new version)", async () => {
    const nonce = server.respond(T.extensionConfig, "x5", [ecds("f1", wasmAny("http", { plugin: "f1@v5", rootId: "good_http", code: inline("good_http") })).any]);
    const ack = await nackOf(T.extensionConfig, nonce);
    expect(ack.req.error_detail).toBeNull();
    expect(ack.req.version_info).toBe("x5");
    expect(node.sendHttp()?.upstreamHeaders).toContainEqual(["x-wasmxds", "add_header"]);
  });

  it("NACKs a listener whose inline wasm fails, naming the listener, and applies the good ones", async () => {
    const badWasm = wasmAny("http", { plugin: "inline@bad", rootId: "configure_false", configuration: "{}", code: inline("configure_false") });
    const nonce = server.respond(T.listener, "l2", [
      httpListener("ingress", 10000, [{ ecds: "f1" }]).any,
      httpListener("broken", 10002, [{ name: "inline-filter", inline: badWasm }]).any,
    ]);
    const nack = await nackOf(T.listener, nonce);
    expect(nack.req.version_info).toBe("l1");
    expect(nack.req.error_detail?.message).toBe("Error adding/updating listener(s) broken: Unable to create Wasm plugin inline@bad\n");
    expect(node.listeners().map((l) => l.name)).toEqual(["ingress"]);
    expect(node.stats.get("listener_manager.lds.update_rejected")).toBe(1);
  });

  it("NACKs duplicate clusters in Envoy's words", async () => {
    const nonce = server.respond(T.cluster, "c2", [staticCluster("backend", 8080).any, staticCluster("backend", 8081).any]);
    const nack = await nackOf(T.cluster, nonce);
    expect(nack.req.error_detail?.message).toBe("Error adding/updating cluster(s) backend: duplicate cluster backend found");
    expect(nack.req.version_info).toBe("c1");
  });
});
