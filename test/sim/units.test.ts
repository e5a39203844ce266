/** Unit tests of the simulator's small parts: clock, backoffs, code cache, route lookup, stats formats, summary. */
import { describe, expect, it } from "vitest";
import { FakeClock, formatSummary, JitteredExponentialBackOff, JitteredLowerBoundBackOff, prometheusName, StatsStore, summarize } from "../../src/sim";
import { every } from "../../src/time/clock";
import { routeRequest } from "../../src/sim/config/route-table";
import { renderJson, renderPrometheus, selectStats } from "../../src/sim/stats/stats-render";
import { RemoteCodeCache } from "../../src/sim/wasm/remote-code-cache";
import { decodeMessage } from "../../src/proto/registry";
import type { RouteConfiguration__Output } from "../../src/generated/envoy/config/route/v3/RouteConfiguration";
import { any } from "../helpers/xds-resources";

describe("FakeClock", () => {
  it("runs due timers in time order, including ones scheduled while advancing, and honours cancel", () => {
    const clock = new FakeClock(0);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push("b@20"), 20);
    clock.setTimeout(() => {
      seen.push("a@10");
      clock.setTimeout(() => seen.push("c@15"), 5);
    }, 10);
    clock.setTimeout(() => seen.push("never"), 30).cancel();
    const tick = every(clock, 25, () => seen.push(`tick@${clock.now()}`));
    clock.advance(60);
    tick.cancel();
    expect(seen).toEqual(["a@10", "c@15", "b@20", "tick@25", "tick@50"]);
    expect(clock.now()).toBe(60);
  });
});

describe("Envoy's backoff strategies", () => {
  it("jittered exponential: below the doubling interval, capped at max", () => {
    const top = new JitteredExponentialBackOff(500, 2000, () => 0.999999);
    expect([1, 2, 3, 4].map(() => top.nextBackOffMs())).toEqual([499, 999, 1999, 1999]);
    expect(new JitteredExponentialBackOff(500, 2000, () => 0).nextBackOffMs()).toBe(0);
  });

  it("jittered lower bound (FAIL_RELOAD): between base and 1.5 x base", () => {
    expect(new JitteredLowerBoundBackOff(1000, () => 0).nextBackOffMs()).toBe(1000);
    expect(new JitteredLowerBoundBackOff(1000, () => 0.999999).nextBackOffMs()).toBe(1499);
  });
});

describe("remote code cache (Envoy createWasm rules)", () => {
  it("miss; in progress and negatively cached mean 'no VM meanwhile, fetch again', never a rejection; hit", () => {
    // createWasm's order (wasm.cc): in progress counts a miss, then an entry without code
    // fetched less than 10 s ago counts a negative hit; either way the caller fetches again.
    const clock = new FakeClock(0);
    const stats = new StatsStore();
    const cache = new RemoteCodeCache(stats, clock);
    expect(cache.lookup("a")).toEqual({ kind: "fetch", unavailable: [] });
    expect(cache.lookup("a")).toEqual({ kind: "fetch", unavailable: ["in progress", "cached"] });
    cache.complete("a", Uint8Array.of(1));
    expect(cache.lookup("a")).toEqual({ kind: "hit", code: Uint8Array.of(1) });
    expect(cache.lookup("b")).toEqual({ kind: "fetch", unavailable: [] });
    cache.complete("b", new Uint8Array(0));
    clock.advance(9_999);
    expect(cache.lookup("b")).toEqual({ kind: "fetch", unavailable: ["cached"] });
    cache.complete("b", new Uint8Array(0));
    clock.advance(10_000);
    expect(cache.lookup("b")).toEqual({ kind: "fetch", unavailable: [] });
    expect(stats.toRecord()).toMatchObject({
      "wasm.remote_load_cache_misses": 3,
      "wasm.remote_load_cache_hits": 1,
      "wasm.remote_load_cache_negative_hits": 2,
      "wasm.remote_load_fetch_successes": 1,
      "wasm.remote_load_fetch_failures": 2,
      "wasm.remote_load_cache_entries": 2,
    });
  });
});

describe("route lookup", () => {
  const config = decodeMessage<RouteConfiguration__Output>(
    "envoy.config.route.v3.RouteConfiguration",
    any("envoy.config.route.v3.RouteConfiguration", {
      name: "r",
      virtual_hosts: [
        { name: "api", domains: ["api.example.com"], routes: [{ match: { path: "/health" }, direct_response: { status: 204 } }, { match: { prefix: "/" }, route: { cluster: "api" } }] },
        { name: "wild", domains: ["*.example.com"], routes: [{ match: { safe_regex: { regex: "/v[0-9]+/.*" } }, route: { cluster: "versioned" } }] },
        { name: "all", domains: ["*"], routes: [{ match: { prefix: "/static" }, route: { cluster: "static" } }] },
      ],
    }).value,
  );

  it("picks the virtual host by domain (exact, wildcard, *) and the first matching route", () => {
    expect(routeRequest(config, "api.example.com", "/health")).toEqual({ kind: "direct", status: 204 });
    expect(routeRequest(config, "api.example.com:443", "/x?y=1")).toEqual({ kind: "cluster", cluster: "api" });
    expect(routeRequest(config, "www.example.com", "/v2/users")).toEqual({ kind: "cluster", cluster: "versioned" });
    expect(routeRequest(config, "www.example.com", "/users")).toEqual({ kind: "none" });
    expect(routeRequest(config, "other", "/static/a.css")).toEqual({ kind: "cluster", cluster: "static" });
    expect(routeRequest(undefined, "other", "/")).toEqual({ kind: "none" });
  });
});

describe("stats formats and summary", () => {
  it("renders JSON, Prometheus names and selects used stats", () => {
    const stats = new StatsStore();
    stats.declareCounter("listener_manager.lds.update_rejected");
    stats.inc("http.in-gress.downstream_rq_2xx", 2);
    stats.set("wasm.envoy.wasm.runtime.v8.active", 1);
    expect(prometheusName("wasm.f1@1a2b.vm_reload_success")).toBe("envoy_wasm_f1_1a2b_vm_reload_success");
    const used = selectStats(stats.all(), { usedOnly: true });
    expect(renderJson(used)).toBe('{"stats":[{"name":"http.in-gress.downstream_rq_2xx","value":2},{"name":"wasm.envoy.wasm.runtime.v8.active","value":1}]}');
    expect(renderPrometheus(used)).toContain("# TYPE envoy_http_in_gress_downstream_rq_2xx counter\nenvoy_http_in_gress_downstream_rq_2xx{} 2\n");
  });

  it("summarizes a fleet into one line", () => {
    const node = (id: string, lds: string, ok: number) => ({ id, connected: true, state: "LIVE" as const, versions: { CDS: "c1", LDS: lds, ECDS: "" }, nacks: 0, ok, failed: 1 });
    const s = summarize([node("a", "0123456789abcdef", 3), node("b", "0123456789abcdef", 4), node("c", "l2", 5)]);
    expect(formatSummary(s)).toBe("3 nodes: 3 connected, 3 live | CDS c1×3 | LDS 01234567…×2 l2×1 | NACKs 0 | requests 12 ok, 3 failed");
  });
});
