/**
 * Stats with Envoy's names and values, read from the admin endpoint
 * (`/stats?format=json` with filter and usedonly, `/stats/prometheus`,
 * `/ready`) and pushed over MetricsService/StreamMetrics (identifier on the
 * first message only, one MetricFamily per used stat, cumulative or delta
 * counters), against the raw ADS server with a test MetricsService on the
 * same port. Flushes are driven by a FakeClock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamMetricsMessage__Output } from "../../src/generated/envoy/service/metrics/v3/StreamMetricsMessage";
import { FakeClock, SimNode } from "../../src/sim";
import { ecds, httpListener, moduleBytes, routeConfig, staticCluster, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { addMetricsService, type MetricsRecorder } from "../helpers/metrics-recorder";
import { RawAdsServer } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;

function families(m: StreamMetricsMessage__Output | undefined): Map<string, { type: string; value: number; ts: string }> {
  return new Map(
    (m?.envoy_metrics ?? []).map((f) => {
      const metric = f.metric[0];
      return [f.name, { type: f.type, value: Number(metric?.counter?.value ?? metric?.gauge?.value), ts: String(metric?.timestamp_ms) }];
    }),
  );
}

describe("stats: admin endpoint and metrics service", () => {
  let server: RawAdsServer;
  let metrics: MetricsRecorder;
  const clock = new FakeClock();
  let cumulative: SimNode;
  let deltas: SimNode;
  let admin: string;

  beforeAll(async () => {
    server = await RawAdsServer.start((s) => {
      metrics = addMetricsService(s);
    });
    server.set(T.cluster, "c1", [staticCluster("backend", 8080)]);
    server.set(T.listener, "l1", [httpListener("ingress", 10000, [{ ecds: "f1" }])]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend")]);
    server.set(T.extensionConfig, "x1", [ecds("f1", wasmAny("http", { plugin: "f1@abc", rootId: "good_http", code: { inline: moduleBytes("good_http") } }))]);
    const common = { xdsAddress: server.address, clock, random: () => 0 };
    cumulative = new SimNode({ ...common, id: "cumulative", adminPort: 0, metricsService: { flushIntervalMs: 5000 } });
    deltas = new SimNode({ ...common, id: "deltas", metricsService: { flushIntervalMs: 5000, reportCountersAsDeltas: true } });
    await Promise.all([cumulative.start(), deltas.start()]);
    await waitFor("LIVE", () => cumulative.serverState === "LIVE" && deltas.serverState === "LIVE");
    admin = `http://127.0.0.1:${cumulative.adminAddress?.port}`;
    for (const n of [cumulative, deltas]) for (let i = 0; i < 3; i++) n.sendHttp();
  });

  afterAll(async () => {
    await Promise.all([cumulative.stop(), deltas.stop()]);
    await server.close();
  });

  it("serves /stats?format=json sorted by name with Envoy's stat names", async () => {
    const body = (await (await fetch(`${admin}/stats?format=json`)).json()) as { stats: { name: string; value: number }[] };
    const names = body.stats.map((s) => s.name);
    expect(names).toEqual([...names].sort());
    const value = new Map(body.stats.map((s) => [s.name, s.value]));
    expect(Object.fromEntries([...value].filter(([k]) => /^(http\.ingress\.downstream_rq_|wasm\.|extension_config_discovery|listener_manager\.lds|cluster_manager\.cds)/.test(k)))).toMatchObject({
      "http.ingress.downstream_rq_2xx": 3,
      "http.ingress.downstream_rq_total": 3,
      "wasm.envoy.wasm.runtime.v8.created": 3,
      "wasm.envoy.wasm.runtime.v8.active": 2,
      "wasm.f1@abc.vm_reload_success": 0,
      "wasm.remote_load_fetch_successes": 0,
      "extension_config_discovery.http_filter.f1.config_reload": 1,
      "extension_config_discovery.http_filter.f1.config_fail": 0,
      "listener_manager.lds.update_success": 1,
      "listener_manager.lds.update_rejected": 0,
      "cluster_manager.cds.update_success": 1,
    });
  });

  it("narrows with filter=<regex> and usedonly, and rejects a bad regex", async () => {
    const get = async (q: string) => ((await (await fetch(`${admin}/stats?format=json&${q}`)).json()) as { stats: { name: string }[] }).stats.map((s) => s.name);
    expect(await get(`filter=${encodeURIComponent("downstream_rq_[0-9]xx$")}`)).toEqual(["http.ingress.downstream_rq_2xx"]);
    expect(await get("filter=update_rejected")).toContain("listener_manager.lds.update_rejected");
    expect(await get("filter=update_rejected&usedonly")).toEqual([]);
    expect((await fetch(`${admin}/stats?filter=(`)).status).toBe(400);
  });

  it("serves /stats/prometheus and /ready", async () => {
    const text = await (await fetch(`${admin}/stats/prometheus?usedonly`)).text();
    expect(text).toContain("# TYPE envoy_http_ingress_downstream_rq_2xx counter\nenvoy_http_ingress_downstream_rq_2xx{} 3\n");
    expect(text).toContain("# TYPE envoy_wasm_envoy_wasm_runtime_v8_active gauge\nenvoy_wasm_envoy_wasm_runtime_v8_active{} 2\n");
    const ready = await fetch(`${admin}/ready`);
    expect([ready.status, await ready.text()]).toEqual([200, "LIVE\n"]);
  });

  it("pushes used stats every flush interval, the node identifier on the first message only", async () => {
    expect(metrics.streams).toEqual([]);
    clock.advance(5000);
    await waitFor("first flush", () => metrics.messagesOf("cumulative").length === 1 && metrics.messagesOf("deltas").length === 1);
    const first = metrics.messagesOf("cumulative")[0];
    expect(first?.identifier?.node?.id).toBe("cumulative");
    expect(first?.identifier?.node?.user_agent_name).toBe("envoy");
    const f = families(first);
    expect(f.get("http.ingress.downstream_rq_2xx")).toEqual({ type: "COUNTER", value: 3, ts: String(clock.now()) });
    expect(f.get("wasm.envoy.wasm.runtime.v8.active")).toMatchObject({ type: "GAUGE", value: 2 });
    expect(f.has("listener_manager.lds.update_rejected")).toBe(false);
    for (const n of [cumulative, deltas]) for (let i = 0; i < 2; i++) n.sendHttp();
    clock.advance(5000);
    await waitFor("second flush", () => metrics.messagesOf("cumulative").length === 2 && metrics.messagesOf("deltas").length === 2);
    const second = metrics.messagesOf("cumulative")[1];
    expect(second?.identifier).toBeNull();
    expect(families(second).get("http.ingress.downstream_rq_2xx")?.value).toBe(5);
  });

  it("reports counters as deltas since the previous flush with report_counters_as_deltas (gauges stay absolute)", () => {
    const [a, b] = metrics.messagesOf("deltas").map(families);
    expect(a?.get("http.ingress.downstream_rq_2xx")?.value).toBe(3);
    expect(b?.get("http.ingress.downstream_rq_2xx")?.value).toBe(2);
    expect(b?.get("listener_manager.lds.update_success")?.value).toBe(0);
    expect(b?.get("wasm.envoy.wasm.runtime.v8.active")?.value).toBe(2);
  });
});
