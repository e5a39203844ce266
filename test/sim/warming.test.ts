/**
 * Listener warming and initial fetch timeouts (Envoy docs
 * "Initialization"; docs/ENVOY.md "ECDS"): a listener waits for its ECDS
 * config; after the initial fetch timeout (15 s) it serves anyway and its
 * config-less filter answers 500. A NACKed first ECDS config ends the wait
 * the same way. Time is a FakeClock.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock, SimNode } from "../../src/sim";
import { ecds, httpListener, moduleBytes, routeConfig, staticCluster, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { RawAdsServer } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;

describe("listener warming", () => {
  let server: RawAdsServer;
  let node: SimNode;

  async function start(clock: FakeClock): Promise<void> {
    server = await RawAdsServer.start();
    server.set(T.cluster, "c1", [staticCluster("backend", 8080)]);
    server.set(T.listener, "l1", [httpListener("ingress", 10000, [{ ecds: "f1" }])]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend")]);
    node = new SimNode({ id: "warmer", xdsAddress: server.address, clock });
    await node.start();
    await waitFor("ECDS request", () => node.requests().some((r) => r.typeUrl === T.extensionConfig));
    await waitFor("RDS ACK", () => node.versions().RDS === "r1");
  }

  afterEach(async () => {
    await node.stop();
    await server.close();
  });

  it("waits for ECDS, then after the 15 s initial fetch timeout serves, answering 500 for the missing filter config", async () => {
    const clock = new FakeClock();
    await start(clock);
    expect(node.listeners()).toEqual([{ name: "ingress", state: "warming", address: "127.0.0.1:10000", kind: "http" }]);
    clock.advance(14_999);
    expect(node.serverState).toBe("INITIALIZING");
    clock.advance(1);
    expect(node.serverState).toBe("LIVE");
    expect(node.sendHttp()).toMatchObject({ status: 500 });
    expect(node.stats.get("extension_config_discovery.http_filter.f1.init_fetch_timeout")).toBe(1);
    server.set(T.extensionConfig, "x1", [ecds("f1", wasmAny("http", { plugin: "f1@1", rootId: "good_http", code: { inline: moduleBytes("good_http") } }))]);
    await waitFor("ECDS", () => node.versions().ECDS === "x1");
    expect(node.sendHttp()?.status).toBe(200);
  });

  it("a NACKed first ECDS config ends warming too (every ECDS subscription counts config_fail)", async () => {
    const clock = new FakeClock();
    await start(clock);
    server.set(T.extensionConfig, "x1", [ecds("f1", wasmAny("http", { plugin: "f1@bad", rootId: "abort_vm_start", code: { inline: moduleBytes("abort_vm_start") } }))]);
    await waitFor("NACK", () => node.nacks().length === 1);
    expect(node.serverState).toBe("LIVE");
    expect(node.stats.get("extension_config_discovery.http_filter.f1.config_fail")).toBe(1);
    expect(node.sendHttp()?.status).toBe(500);
  });
});
