/**
 * The listeners' traffic counters, offline: their names (stat-traffic.ts),
 * increases from cumulative and delta readings through StatSignals, and
 * their attribution to the filter versions each listener runs on each node
 * (traffic-counts.ts).
 */
import { describe, expect, it } from "vitest";
import { SignalHub } from "../../src/health/signal";
import { ADMIN_HEALTH_FILTER, isHealthStat } from "../../src/health/stat-names";
import { StatSignals, type TrafficIncrease } from "../../src/health/stat-signals";
import { trafficStat, trafficStatNameOf } from "../../src/health/stat-traffic";
import { TrafficCounts } from "../../src/health/traffic-counts";

describe("traffic stat names", () => {
  it("reads the HCM and tcp_proxy counters by prefix and suffix, dotted prefixes included", () => {
    expect(trafficStat("http.ingress.downstream_rq_5xx")).toEqual({ protocol: "http", statPrefix: "ingress", counts: "failed" });
    expect(trafficStat("http.my.edge.downstream_rq_completed")).toEqual({ protocol: "http", statPrefix: "my.edge", counts: "total" });
    expect(trafficStat("tcp.echo.downstream_cx_total")).toEqual({ protocol: "tcp", statPrefix: "echo", counts: "total" });
    for (const other of ["http.ingress.downstream_rq_4xx", "http.downstream_rq_5xx", "cluster.c.upstream_rq_5xx", "listener.0.0.0.0_80.downstream_cx_total", "tcp.downstream_cx_total"]) {
      expect(trafficStat(other), other).toBeUndefined();
    }
    expect(isHealthStat("http.ingress.downstream_rq_5xx")).toBe(true);
    expect(isHealthStat("wasm.f@0123abcd.vm_reload_success")).toBe(true);
    expect(isHealthStat("http.ingress.downstream_rq_total")).toBe(false);
  });

  it("puts back the prefix and the class Envoy's default tag extractors take out (emit_tags_as_labels)", () => {
    const labels = [
      { name: "envoy.http_conn_manager_prefix", value: "ingress" },
      { name: "envoy.response_code_class", value: "5" },
    ];
    expect(trafficStatNameOf("http.downstream_rq_xx", labels)).toBe("http.ingress.downstream_rq_5xx");
    expect(trafficStatNameOf("http.downstream_rq_completed", labels)).toBe("http.ingress.downstream_rq_completed");
    expect(trafficStatNameOf("tcp.downstream_cx_total", [{ name: "envoy_tcp_prefix", value: "echo" }])).toBe("tcp.echo.downstream_cx_total");
    expect(trafficStatNameOf("http.downstream_rq_xx", [])).toBe("http.downstream_rq_xx");
  });

  it("the admin filter selects the wasm stats and the traffic counters only", () => {
    const re = new RegExp(ADMIN_HEALTH_FILTER);
    expect(re.test("wasm.f@0123abcd.vm_reload_success")).toBe(true);
    expect(re.test("http.ingress.downstream_rq_5xx")).toBe(true);
    expect(re.test("http.ingress.downstream_rq_completed")).toBe(true);
    expect(re.test("tcp.echo.downstream_cx_total")).toBe(true);
    expect(re.test("http.ingress.downstream_rq_2xx")).toBe(false);
    expect(re.test("cluster.c.upstream_rq_completed")).toBe(false);
  });
});

describe("traffic increases", () => {
  it("cumulative: the first reading is a baseline, then differences; deltas count as they come", () => {
    const seen: TrafficIncrease[][] = [];
    const signals = new StatSignals({ hub: new SignalHub(), source: "admin-pull", traffic: (_n, inc) => seen.push([...inc]) });
    const read = (completed: number, failed: number, mode: "cumulative" | "delta" = "cumulative") =>
      signals.process(
        "n1",
        [
          { name: "http.ingress.downstream_rq_completed", type: "counter", value: completed },
          { name: "http.ingress.downstream_rq_5xx", type: "counter", value: failed },
        ],
        mode,
      );
    read(100, 1);
    expect(seen).toEqual([]);
    read(250, 11);
    expect(seen).toEqual([
      [
        { protocol: "http", statPrefix: "ingress", counts: "total", increase: 150 },
        { protocol: "http", statPrefix: "ingress", counts: "failed", increase: 10 },
      ],
    ]);
    expect(signals.signalCount).toBe(0);
  });
});

describe("traffic counts per filter version", () => {
  const listeners = [
    { kind: "http" as const, name: "edge", statPrefix: "ingress", filters: ["guard", "auth"] },
    { kind: "http" as const, name: "admin", statPrefix: "adm", filters: ["auth"] },
  ];

  it("counts a listener's requests for every filter version it runs on that node, after the first reading on that version", () => {
    const versions = new Map<string, Map<string, string>>([
      ["n1", new Map([["guard", "g2"], ["auth", "a1"]])],
      ["n2", new Map([["guard", "g1"], ["auth", "a1"]])],
    ]);
    const counts = new TrafficCounts({ listeners: () => listeners, nodeVersions: (id) => versions.get(id) ?? new Map() });
    const reading = (total: number, failed: number): TrafficIncrease[] => [
      { protocol: "http", statPrefix: "ingress", counts: "total", increase: total },
      { protocol: "http", statPrefix: "ingress", counts: "failed", increase: failed },
    ];
    counts.record("n1", reading(999, 999), 1000); // first reading on this version: may mix versions
    counts.record("n1", reading(100, 10), 2000);
    counts.record("n2", reading(5, 5), 2000);
    counts.record("n2", reading(200, 1), 3000);
    expect(counts.counts("guard", "g2", 0)).toEqual({ failed: 10, total: 100, listeners: ["edge"], nodes: 1 });
    expect(counts.counts("guard", "g1", 0)).toEqual({ failed: 1, total: 200, listeners: ["edge"], nodes: 1 });
    expect(counts.counts("auth", "a1", 0)).toMatchObject({ failed: 11, total: 300, nodes: 2 });
    expect(counts.counts("guard", "g1", 3000).total).toBe(200);
    expect(counts.counts("guard", "g1", 4000).total).toBe(0);

    versions.set("n2", new Map([["guard", "g2"], ["auth", "a1"]]));
    counts.record("n2", reading(50, 50), 4000); // n2 moved to g2: this reading mixes both
    expect(counts.counts("guard", "g2", 0).total).toBe(100);
    expect(counts.counts("auth", "a1", 0).total).toBe(350);
  });

  it("compares on the listeners both versions were counted on", () => {
    const versions = new Map<string, Map<string, string>>([
      ["n1", new Map([["auth", "a2"]])],
      ["n2", new Map([["auth", "a1"]])],
    ]);
    const counts = new TrafficCounts({ listeners: () => listeners, nodeVersions: (id) => versions.get(id) ?? new Map() });
    const r = (prefix: string, total: number, failed: number): TrafficIncrease[] => [
      { protocol: "http", statPrefix: prefix, counts: "total", increase: total },
      { protocol: "http", statPrefix: prefix, counts: "failed", increase: failed },
    ];
    for (const at of [1000, 2000]) {
      counts.record("n1", [...r("ingress", 100, 1), ...r("adm", 100, 50)], at);
      counts.record("n2", r("ingress", 100, 1), at);
    }
    const { candidate, stable } = counts.compare("auth", "a2", 0, "a1", 0);
    expect(candidate).toMatchObject({ failed: 1, total: 100, listeners: ["edge"] });
    expect(stable).toMatchObject({ failed: 1, total: 100, listeners: ["edge"] });
    expect(counts.compare("auth", "a2", 0, "a0", 0).candidate).toMatchObject({ failed: 51, total: 200 });
  });

  it("TCP failures from elsewhere (the access log) join the counters' totals", () => {
    const tcp = [{ kind: "tcp" as const, name: "echo", statPrefix: "echo", filters: ["conn"] }];
    const counts = new TrafficCounts({ listeners: () => tcp, nodeVersions: () => new Map([["conn", "c1"]]) });
    counts.record("n1", [{ protocol: "tcp", statPrefix: "echo", counts: "total", increase: 1 }], 1000);
    counts.record("n1", [{ protocol: "tcp", statPrefix: "echo", counts: "total", increase: 40 }], 2000);
    counts.addFailures("n1", "echo", 4, 2500);
    counts.addFailures("n1", "no-such-listener", 4, 2500);
    expect(counts.counts("conn", "c1", 0)).toMatchObject({ failed: 4, total: 40 });
  });
});
