/**
 * The gRPC project's own xDS client (@grpc/grpc-js-xds) as a real peer: it
 * resolves `xds:///echo` through our ADS server (Listener with api_listener,
 * RouteConfiguration, Cluster, ClusterLoadAssignment) and makes real calls to
 * local echo servers; endpoints follow snapshot changes; an invalid resource
 * is NACKed, recorded, and not resent.
 */
import * as grpc from "@grpc/grpc-js";
import * as grpcXds from "@grpc/grpc-js-xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import type { XdsEvent } from "../../src/xds/events";
import { echoResources, startEcho, who } from "../helpers/grpc-xds-echo";
import { type Harness, startHarness } from "../helpers/xds-harness";

describe("@grpc/grpc-js-xds against the ADS server", () => {
  let h: Harness;
  let a: { port: number; server: grpc.Server };
  let b: { port: number; server: grpc.Server };
  let client: grpc.Client;
  const events: XdsEvent[] = [];

  beforeAll(async () => {
    grpcXds.register();
    h = await startHarness();
    h.xds.events.on((e) => events.push(e));
    a = await startEcho("A");
    b = await startEcho("B");
    const bootstrap = {
      xds_servers: [
        { server_uri: `127.0.0.1:${h.port}`, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] },
      ],
      node: { id: "grpc-client-1", cluster: "tests", locality: {} },
    };
    client = new grpc.Client("xds:///echo", grpc.credentials.createInsecure(), {
      "grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config": JSON.stringify(bootstrap),
    });
  });

  afterAll(async () => {
    client?.close();
    await h?.close();
    a?.server.forceShutdown();
    b?.server.forceShutdown();
  });

  it("makes real calls through the served Listener, Route, Cluster and endpoints", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(echoResources({ echoPort: a.port })));
    expect(await who(client)).toBe("A");
    const acked = new Set(events.filter((e) => e.kind === "ack").map((e) => (e.kind === "ack" ? e.typeUrl : "")));
    expect(acked).toEqual(new Set([TYPE_URLS.listener, TYPE_URLS.route, TYPE_URLS.cluster, TYPE_URLS.endpoint]));
  });

  it("follows an endpoint change", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(echoResources({ echoPort: b.port })));
    await expect.poll(() => who(client), { timeout: 5000, interval: 100 }).toBe("B");
  });

  it("records the NACK of an invalid listener and does not resend it", async () => {
    const pushesBefore = events.filter((e) => e.kind === "push" && e.typeUrl === TYPE_URLS.listener).length;
    h.cache.setDefaultSnapshot(Snapshot.create(echoResources({ echoPort: b.port, brokenListener: true })));
    await expect.poll(() => h.xds.nacks().length, { timeout: 5000 }).toBe(1);
    const nack = h.xds.nacks()[0]!;
    expect(nack.nodeId).toBe("grpc-client-1");
    expect(nack.typeUrl).toBe(TYPE_URLS.listener);
    expect(nack.message).toMatch(/Listener message validation failed/);
    await new Promise((r) => setTimeout(r, 1000));
    const pushesAfter = events.filter((e) => e.kind === "push" && e.typeUrl === TYPE_URLS.listener).length;
    expect(pushesAfter - pushesBefore).toBe(1);
    expect(h.xds.nacks().length).toBe(1);
    // The client keeps using the last good configuration.
    expect(await who(client)).toBe("B");
  });
});
