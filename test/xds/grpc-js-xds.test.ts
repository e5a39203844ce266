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
import { packAny } from "../../src/proto/registry";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import type { XdsEvent } from "../../src/xds/events";
import { type Harness, startHarness } from "../helpers/xds-harness";

const ECHO_PATH = "/wasmxds.test.Echo/Who";
const ADS = { ads: {}, resource_api_version: "V3" };

async function startEcho(name: string): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(
    {
      Who: {
        path: ECHO_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    { Who: (_call: unknown, cb: (err: null, res: Buffer) => void) => cb(null, Buffer.from(name)) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { port, server };
}

function resources(opts: { echoPort: number; brokenListener?: boolean }) {
  const hcm = opts.brokenListener
    ? // Neither rds nor route_config: grpc-js-xds rejects this listener.
      { http_filters: [{ name: "router", typed_config: packAny("envoy.extensions.filters.http.router.v3.Router", {}) }] }
    : {
        rds: { route_config_name: "echo-route", config_source: ADS },
        http_filters: [{ name: "router", typed_config: packAny("envoy.extensions.filters.http.router.v3.Router", {}) }],
      };
  return {
    [TYPE_URLS.listener]: [
      {
        name: "echo",
        message: {
          name: "echo",
          api_listener: {
            api_listener: packAny("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", hcm),
          },
        },
      },
    ],
    [TYPE_URLS.route]: [
      {
        name: "echo-route",
        message: {
          name: "echo-route",
          virtual_hosts: [{ name: "echo", domains: ["*"], routes: [{ match: { prefix: "" }, route: { cluster: "echo-cluster" } }] }],
        },
      },
    ],
    [TYPE_URLS.cluster]: [
      {
        name: "echo-cluster",
        message: { name: "echo-cluster", type: "EDS", eds_cluster_config: { eds_config: ADS }, lb_policy: "ROUND_ROBIN" },
      },
    ],
    [TYPE_URLS.endpoint]: [
      {
        name: "echo-cluster",
        message: {
          cluster_name: "echo-cluster",
          endpoints: [
            {
              locality: { region: "local" },
              load_balancing_weight: { value: 1 },
              lb_endpoints: [
                { endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: opts.echoPort } } } },
              ],
            },
          ],
        },
      },
    ],
  };
}

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

  function who(): Promise<string> {
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        ECHO_PATH,
        (x: Buffer) => x,
        (x: Buffer) => x,
        Buffer.from("?"),
        { deadline: Date.now() + 5000 },
        (err, res) => (err ? reject(err) : resolve(res!.toString())),
      );
    });
  }

  it("makes real calls through the served Listener, Route, Cluster and endpoints", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(resources({ echoPort: a.port })));
    expect(await who()).toBe("A");
    const acked = new Set(events.filter((e) => e.kind === "ack").map((e) => (e.kind === "ack" ? e.typeUrl : "")));
    expect(acked).toEqual(new Set([TYPE_URLS.listener, TYPE_URLS.route, TYPE_URLS.cluster, TYPE_URLS.endpoint]));
  });

  it("follows an endpoint change", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(resources({ echoPort: b.port })));
    await expect.poll(() => who(), { timeout: 5000, interval: 100 }).toBe("B");
  });

  it("records the NACK of an invalid listener and does not resend it", async () => {
    const pushesBefore = events.filter((e) => e.kind === "push" && e.typeUrl === TYPE_URLS.listener).length;
    h.cache.setDefaultSnapshot(Snapshot.create(resources({ echoPort: b.port, brokenListener: true })));
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
    expect(await who()).toBe("B");
  });
});
