/**
 * Envoy skips an ECDS config whose typed_config hashes the same as the last
 * one it received for that filter config, and ACKs it, even when that last
 * one was NACKed: FilterConfigSubscription records the hash before the
 * filter factory runs (source/common/filter/config_discovery_impl.cc,
 * Envoy 1.33 and main; docs/ENVOY.md "ECDS hash skip"). So an ACK of a
 * version this node NACKed before is no evidence that it runs: the old
 * filter keeps serving. A config rejected for its type URL is checked before
 * the hash is recorded, so its re-push is rejected again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NACK_CODE, SimNode } from "../../src/sim";
import { ecds, httpListener, moduleBytes, type Res, routeConfig, staticCluster, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { RawAdsServer } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;
const PREFIX = "extension_config_discovery.http_filter.f1.";
const GOOD = ecds("f1", wasmAny("http", { plugin: "f1@good", rootId: "good_http", code: { inline: moduleBytes("good_http") } }));
const BAD = ecds("f1", wasmAny("http", { plugin: "f1@bad", rootId: "configure_false", configuration: "{}", code: { inline: moduleBytes("configure_false") } }));
const WRONG_TYPE = ecds("f1", wasmAny("network", { plugin: "f1@net", rootId: "good_network", code: { inline: moduleBytes("good_network") } }));

describe("ECDS hash skip", () => {
  let server: RawAdsServer;
  let node: SimNode;
  let version = 1;

  const push = async (resource: Res) => {
    const v = `x${++version}`;
    const nonce = server.respond(T.extensionConfig, v, [resource.any]);
    return { v, req: (await server.next((r) => r.req.type_url === T.extensionConfig && r.req.response_nonce === nonce)).req };
  };
  const counts = () => ({ reload: node.stats.get(`${PREFIX}config_reload`), fail: node.stats.get(`${PREFIX}config_fail`) });

  beforeAll(async () => {
    server = await RawAdsServer.start();
    server.set(T.cluster, "c1", [staticCluster("backend", 8080)]);
    server.set(T.listener, "l1", [httpListener("ingress", 10000, [{ ecds: "f1" }])]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend")]);
    server.set(T.extensionConfig, "x1", [GOOD]);
    node = new SimNode({ id: "hash-skip", xdsAddress: server.address });
    await node.start();
    await waitFor("LIVE", () => node.serverState === "LIVE");
  });

  afterAll(async () => {
    await node.stop();
    await server.close();
  });

  it("ACKs an identical re-push of a NACKed config while the old filter keeps serving", async () => {
    const nack = await push(BAD);
    expect(nack.req.error_detail).toMatchObject({ code: NACK_CODE, message: "Unable to create Wasm plugin f1@bad" });
    expect(counts()).toEqual({ reload: 1, fail: 1 });
    const again = await push(BAD);
    expect(again.req.error_detail).toBeNull();
    expect(again.req.version_info).toBe(again.v);
    expect(node.versions().ECDS).toBe(again.v);
    expect(node.plugins().map((p) => p.name)).toEqual(["f1@good"]);
    expect(node.sendHttp()?.upstreamHeaders).toContainEqual(["x-wasmxds", "add_header"]);
    expect(counts()).toEqual({ reload: 1, fail: 1 });
  });

  it("skips an identical re-push of the serving config without reloading it", async () => {
    const first = await push(GOOD);
    expect(first.req.error_detail).toBeNull();
    expect(counts().reload).toBe(2);
    const again = await push(GOOD);
    expect(again.req.error_detail).toBeNull();
    expect(counts().reload).toBe(2);
  });

  it("rejects a re-push of a config of the wrong type again (the type is checked before the hash is recorded)", async () => {
    for (let i = 0; i < 2; i++) {
      const r = await push(WRONG_TYPE);
      expect(r.req.error_detail?.message).toMatch(/^Error: filter config has type URL /);
    }
  });
});
