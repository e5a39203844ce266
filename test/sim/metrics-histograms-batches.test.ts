/**
 * The metrics service sink sends histograms and can split a flush, as
 * Envoy's does (source/extensions/stat_sinks/metrics_service/
 * grpc_metrics_service_impl.cc, Envoy 1.33 and main; batch_size since the
 * 1.37 API; docs/ENVOY.md "Metrics service sink"):
 * - families in snapshot order: used counters, then gauges, then each used
 *   histogram as a SUMMARY family (10 quantiles, count, sum) followed by a
 *   HISTOGRAM family (19 cumulative buckets, count, sum) of the samples of
 *   the interval since the previous flush; histogram_emit_mode keeps one;
 * - batch_size: a flush of more families is several messages of at most
 *   that many, the node identifier on the stream's first message only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MetricFamily__Output } from "../../src/generated/io/prometheus/client/MetricFamily";
import { FakeClock, SimNode } from "../../src/sim";
import { ecds, httpListener, moduleBytes, routeConfig, staticCluster, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { addMetricsService, type MetricsRecorder } from "../helpers/metrics-recorder";
import { RawAdsServer } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;
const RQ_TIME = "http.ingress.downstream_rq_time";
const KIND_ORDER = ["COUNTER", "GAUGE", "SUMMARY", "HISTOGRAM"];

describe("metrics service sink: histograms and batches", () => {
  let server: RawAdsServer;
  let metrics: MetricsRecorder;
  const clock = new FakeClock();
  const nodes: SimNode[] = [];
  const start = async (id: string, options: ConstructorParameters<typeof SimNode>[0]["metricsService"]) => {
    const node = new SimNode({ id, xdsAddress: server.address, clock, random: () => 0, metricsService: options });
    nodes.push(node);
    await node.start();
    await waitFor("LIVE", () => node.serverState === "LIVE");
    return node;
  };
  const received = async (id: string, n: number) => {
    await waitFor(`${n} messages from ${id}`, () => metrics.messagesOf(id).length >= n);
    return metrics.messagesOf(id);
  };

  beforeAll(async () => {
    server = await RawAdsServer.start((s) => {
      metrics = addMetricsService(s);
    });
    server.set(T.cluster, "c1", [staticCluster("backend", 8080)]);
    server.set(T.listener, "l1", [httpListener("ingress", 10000, [{ ecds: "f1" }])]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend")]);
    server.set(T.extensionConfig, "x1", [ecds("f1", wasmAny("http", { plugin: "f1@abc", rootId: "good_http", code: { inline: moduleBytes("good_http") } }))]);
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await server.close();
  });

  it("sends each used histogram as SUMMARY and HISTOGRAM families of the interval, after the counters and gauges", async () => {
    const node = await start("hist", { flushIntervalMs: 3_600_000 });
    for (let i = 0; i < 3; i++) node.sendHttp();
    expect(node.flushMetrics()).toBe(1);
    const [first] = await received("hist", 1);
    const families = first?.envoy_metrics ?? [];
    const kinds = families.map((f) => f.type);
    expect(kinds.map((k) => KIND_ORDER.indexOf(k))).toEqual([...kinds.map((k) => KIND_ORDER.indexOf(k))].sort((a, b) => a - b));
    const rq = families.filter((f) => f.name === RQ_TIME);
    expect(rq.map((f) => f.type)).toEqual(["SUMMARY", "HISTOGRAM"]);
    const summary = rq[0]?.metric[0]?.summary;
    expect(Number(summary?.sample_count)).toBe(3);
    expect(summary?.quantile.map((q) => q.quantile)).toEqual([0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1]);
    const histogram = rq[1]?.metric[0]?.histogram;
    expect(Number(histogram?.sample_count)).toBe(3);
    expect(histogram?.bucket).toHaveLength(19);
    expect(histogram?.bucket.map((b) => Number(b.cumulative_count))).toEqual(Array(19).fill(3)); // every request took 0 ms
    // The next flush carries the new interval only: no request, count 0, quantiles NaN.
    node.flushMetrics();
    const second = (await received("hist", 2))[1]?.envoy_metrics.find((f) => f.name === RQ_TIME && f.type === "SUMMARY");
    expect(Number(second?.metric[0]?.summary?.sample_count)).toBe(0);
    expect(Number.isNaN(second?.metric[0]?.summary?.quantile[0]?.value)).toBe(true);
  });

  it("emits only SUMMARY or only HISTOGRAM families with histogram_emit_mode", async () => {
    for (const mode of ["SUMMARY", "HISTOGRAM"] as const) {
      const node = await start(`mode-${mode}`, { flushIntervalMs: 3_600_000, histogramEmitMode: mode });
      node.sendHttp();
      node.flushMetrics();
      const [m] = await received(`mode-${mode}`, 1);
      expect(m?.envoy_metrics.filter((f) => f.name === RQ_TIME).map((f) => f.type)).toEqual([mode]);
    }
  });

  it("splits a flush into messages of batch_size families, the identifier on the first only", async () => {
    const whole = await start("whole", { flushIntervalMs: 3_600_000 });
    const batched = await start("batched", { flushIntervalMs: 3_600_000, batchSize: 7 });
    for (const n of [whole, batched]) n.sendHttp();
    whole.flushMetrics();
    const count = batched.flushMetrics();
    const [one] = await received("whole", 1);
    const total = one?.envoy_metrics.length ?? 0;
    expect(count).toBe(Math.ceil(total / 7));
    expect(count).toBeGreaterThan(1);
    const stream = metrics.streams.find((s) => s[0]?.identifier?.node?.id === "batched") ?? [];
    await waitFor("all batches", () => stream.length === count);
    expect(stream.map((m) => m.envoy_metrics.length)).toEqual([...Array(count - 1).fill(7), total - 7 * (count - 1)]);
    expect(stream.map((m) => m.identifier !== null)).toEqual([true, ...Array(count - 1).fill(false)]);
    const names = (ms: { envoy_metrics: MetricFamily__Output[] }[]) => ms.flatMap((m) => m.envoy_metrics.map((f) => `${f.type} ${f.name}`));
    expect(names(stream)).toEqual(names([one as { envoy_metrics: MetricFamily__Output[] }]));
  });
});
