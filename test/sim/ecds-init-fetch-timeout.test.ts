/**
 * An ECDS initial fetch timeout is a failed update for the filter config
 * subscription: GrpcSubscriptionImpl counts `init_fetch_timeout` and calls
 * onConfigUpdateFailed, where FilterConfigSubscription counts `config_fail`
 * (source/extensions/config_subscription/grpc/grpc_subscription_impl.cc,
 * source/common/filter/config_discovery_impl.cc; Envoy 1.33 and main;
 * docs/ENVOY.md "ECDS initial fetch timeout"). A health monitor reading
 * config_fail as "the node rejected a filter config" sees this too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock, SimNode } from "../../src/sim";
import { httpListener, routeConfig, staticCluster, TYPE_URLS } from "../helpers/xds-resources";
import { RawAdsServer } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;
const PREFIX = "extension_config_discovery.http_filter.f1.";

describe("ECDS initial fetch timeout", () => {
  let server: RawAdsServer;
  let node: SimNode;
  const clock = new FakeClock();

  beforeAll(async () => {
    server = await RawAdsServer.start();
    server.set(T.cluster, "c1", [staticCluster("backend", 8080)]);
    server.set(T.listener, "l1", [httpListener("ingress", 10000, [{ ecds: "f1" }])]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend")]);
    node = new SimNode({ id: "ecds-timeout", xdsAddress: server.address, clock });
    await node.start();
    await waitFor("ECDS request", () => node.requests().some((r) => r.typeUrl === T.extensionConfig));
  });

  afterAll(async () => {
    await node.stop();
    await server.close();
  });

  it("counts config_fail as well as init_fetch_timeout, and nothing before the timeout", () => {
    clock.advance(14_999);
    expect(node.stats.get(`${PREFIX}config_fail`)).toBe(0);
    clock.advance(1);
    expect(node.stats.get(`${PREFIX}init_fetch_timeout`)).toBe(1);
    expect(node.stats.get(`${PREFIX}config_fail`)).toBe(1);
    expect(node.stats.get(`${PREFIX}config_reload`)).toBe(0);
    expect(node.serverState).toBe("LIVE");
  });
});
