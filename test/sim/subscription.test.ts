/**
 * The xDS conversation of one simulated node against an independent raw
 * gRPC ADS server: Envoy's subscription order (CDS, EDS, then LDS once the
 * clusters warmed, then ECDS and RDS for the listeners), node on the first
 * request only, ACKs carrying version and nonce, listener warming, and a
 * reconnect that re-requests every type with the versions held.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimNode } from "../../src/sim";
import { assignment, ecds, edsCluster, httpListener, moduleBytes, routeConfig, staticCluster, tcpListener, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { RawAdsServer, type Recorded } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;
const of = (type: string) => (r: Recorded) => r.req.type_url === type;

describe("simulated node against a raw ADS server: subscription sequence", () => {
  let server: RawAdsServer;
  let node: SimNode;

  beforeAll(async () => {
    server = await RawAdsServer.start();
    node = new SimNode({
      id: "node-a",
      cluster: "edge",
      locality: { region: "eu", zone: "eu-1a" },
      metadata: { canary: "true", weight: 3 },
      xdsAddress: server.address,
      random: () => 0,
    });
    await node.start();
  });

  afterAll(async () => {
    await node.stop();
    await server.close();
  });

  it("asks for CDS first, wildcard, with the node on the first request only", async () => {
    const first = await server.next();
    expect(first.req.type_url).toBe(T.cluster);
    expect(first.req.resource_names).toEqual([]);
    expect(first.req.version_info).toBe("");
    expect(first.req.response_nonce).toBe("");
    expect(first.req.node?.id).toBe("node-a");
    expect(first.req.node?.cluster).toBe("edge");
    expect(first.req.node?.locality?.zone).toBe("eu-1a");
    expect(first.req.node?.user_agent_name).toBe("envoy");
    expect(first.req.node?.metadata?.fields?.canary?.stringValue).toBe("true");
  });

  it("asks for EDS of the EDS clusters before ACKing CDS, and not for LDS until the clusters warmed", async () => {
    const nonce = server.respond(T.cluster, "c1", [edsCluster("backend").any, staticCluster("wasmxds_modules", 1).any]);
    const eds = await server.next();
    expect(eds.req.type_url).toBe(T.endpoint);
    expect(eds.req.resource_names).toEqual(["backend"]);
    expect(eds.req.node).toBeNull();
    const ack = await server.next();
    expect(ack.req).toMatchObject({ type_url: T.cluster, version_info: "c1", response_nonce: nonce, error_detail: null });
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests.some((r) => r.req.type_url === T.listener)).toBe(false);
  });

  it("starts LDS once EDS arrived (cluster manager initialized)", async () => {
    server.respond(T.endpoint, "e1", [assignment("backend", 8080).any]);
    const lds = await server.next(of(T.listener));
    expect(lds.req.resource_names).toEqual([]);
    expect(lds.req.version_info).toBe("");
    const edsAck = await server.next(of(T.endpoint));
    expect(edsAck.req.version_info).toBe("e1");
  });

  it("subscribes to ECDS (http and network filter names) and RDS for the listeners, then ACKs LDS", async () => {
    const nonce = server.respond(T.listener, "l1", [
      httpListener("ingress", 10000, [{ ecds: "f1" }]).any,
      tcpListener("tcp-in", 10001, ["n1"], "backend").any,
    ]);
    const ecdsReq = await server.next();
    expect(ecdsReq.req.type_url).toBe(T.extensionConfig);
    expect([...ecdsReq.req.resource_names].sort()).toEqual(["f1", "n1"]);
    const rds = await server.next();
    expect(rds.req.type_url).toBe(T.route);
    expect(rds.req.resource_names).toEqual(["ingress"]);
    const ack = await server.next();
    expect(ack.req).toMatchObject({ type_url: T.listener, version_info: "l1", response_nonce: nonce });
    expect(node.listeners().map((l) => l.state)).toEqual(["warming", "warming"]);
    expect(node.serverState).toBe("INITIALIZING");
  });

  it("warms the listeners until ECDS and RDS are in, then goes LIVE and serves traffic through the modules", async () => {
    server.respond(T.extensionConfig, "x1", [
      ecds("f1", wasmAny("http", { plugin: "f1@1", rootId: "good_http", code: { inline: moduleBytes("good_http") } })).any,
      ecds("n1", wasmAny("network", { plugin: "n1@1", rootId: "good_network", code: { inline: moduleBytes("good_network") } })).any,
    ]);
    expect((await server.next(of(T.extensionConfig))).req.version_info).toBe("x1");
    expect(node.listeners().every((l) => l.state === "warming")).toBe(false);
    expect(node.sendHttp()).toBeUndefined();
    server.respond(T.route, "r1", [routeConfig("ingress", "backend").any]);
    expect((await server.next(of(T.route))).req.version_info).toBe("r1");
    await waitFor("LIVE", () => node.serverState === "LIVE");
    const res = node.sendHttp();
    expect(res?.status).toBe(200);
    expect(res?.details).toBe("via_upstream");
    expect(res?.upstreamHeaders).toContainEqual(["x-wasmxds", "add_header"]);
    expect(node.openTcp()?.closed).toBe("none");
    expect(node.versions()).toEqual({ CDS: "c1", EDS: "e1", LDS: "l1", RDS: "r1", ECDS: "x1" });
  });

  it("after a dropped stream, reconnects and re-requests every type with its version, node first, no nonce", async () => {
    const before = server.requests.length;
    server.dropStreams();
    const first = await server.next((r) => r.stream === 2);
    expect(first.req.node?.id).toBe("node-a");
    expect(first.req.type_url).toBe(T.cluster);
    const again = await Promise.all([T.endpoint, T.listener, T.extensionConfig, T.route].map(() => server.next((r) => r.stream === 2)));
    const byType = new Map([first, ...again].map((r) => [r.req.type_url, r.req]));
    expect(byType.get(T.cluster)?.version_info).toBe("c1");
    expect(byType.get(T.listener)?.version_info).toBe("l1");
    expect(byType.get(T.route)?.resource_names).toEqual(["ingress"]);
    for (const r of byType.values()) expect(r.response_nonce).toBe("");
    expect(again.every((r) => r.req.node === null)).toBe(true);
    expect(server.requests.length).toBeGreaterThan(before);
  });
});
