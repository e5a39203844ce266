/**
 * Timers and module metrics: a module that sets a tick period gets
 * proxy_on_tick on its worker VM at that period (FakeClock), a counter it
 * defines shows as `wasmcustom.<name>`, a trap in on_tick fails the VM for
 * later requests; and an RDS update with a duplicate domain is NACKed in
 * Envoy's words.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock, SimNode } from "../../src/sim";
import { proxyImport, proxyWat, wat } from "../helpers/wat";
import { any, ecds, httpListener, routeConfig, staticCluster, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { RawAdsServer } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;

/** Ticks every 100 ms, counting ticks in metric "ticks"; the 3rd tick traps. */
const TICKER = proxyWat({
  imports: [
    proxyImport("proxy_set_tick_period_milliseconds", 1),
    proxyImport("proxy_define_metric", 4),
    '(import "env" "proxy_increment_metric" (func $proxy_increment_metric (param i32 i64) (result i32)))',
  ].join("\n"),
  body: `
  (data (i32.const 100) "ticks")
  (global $n (mut i32) (i32.const 0))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $proxy_define_metric (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 16)))
    (drop (call $proxy_set_tick_period_milliseconds (i32.const 100)))
    (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_tick") (param i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (if (i32.eq (global.get $n) (i32.const 3)) (then unreachable))
    (drop (call $proxy_increment_metric (i32.load (i32.const 16)) (i64.const 1))))`,
});

describe("ticks, module metrics and RDS validation", () => {
  let server: RawAdsServer;
  let node: SimNode;
  const clock = new FakeClock();

  beforeAll(async () => {
    const bytes = Buffer.from(await wat(TICKER));
    server = await RawAdsServer.start();
    server.set(T.cluster, "c1", [staticCluster("backend", 8080)]);
    server.set(T.listener, "l1", [httpListener("ingress", 10000, [{ ecds: "f1" }])]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend")]);
    server.set(T.extensionConfig, "x1", [ecds("f1", wasmAny("http", { plugin: "ticker", rootId: "", code: { inline: bytes } }))]);
    node = new SimNode({ id: "ticker", xdsAddress: server.address, clock });
    await node.start();
    await waitFor("LIVE", () => node.serverState === "LIVE");
  });

  afterAll(async () => {
    await node.stop();
    await server.close();
  });

  it("calls proxy_on_tick at the module's period and exposes its counter as wasmcustom.ticks", () => {
    expect(node.stats.get("wasmcustom.ticks")).toBe(0);
    clock.advance(250);
    expect(node.stats.get("wasmcustom.ticks")).toBe(2);
    expect(node.sendHttp()?.status).toBe(200);
  });

  it("a trap in on_tick fails the VM: the next request fails closed", () => {
    clock.advance(100);
    expect(node.sendHttp()).toMatchObject({ status: 503, details: "wasm_fail_stream" });
  });

  it("NACKs a route configuration with a duplicate domain", async () => {
    const dup = any("envoy.config.route.v3.RouteConfiguration", {
      name: "ingress",
      virtual_hosts: [
        { name: "a", domains: ["Example.com"], routes: [] },
        { name: "b", domains: ["example.com"], routes: [] },
      ],
    });
    const nonce = server.respond(T.route, "r2", [dup]);
    const nack = await server.next((r) => r.req.type_url === T.route && r.req.response_nonce === nonce);
    expect(nack.req.version_info).toBe("r1");
    expect(nack.req.error_detail?.message).toBe("Only unique values for domains are permitted. Duplicate entry of domain example.com in route ingress");
    expect(node.stats.get("http.ingress.rds.ingress.update_rejected")).toBe(1);
  });
});
