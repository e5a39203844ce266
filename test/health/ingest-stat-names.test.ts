/**
 * The pieces the push and pull paths share, offline: Envoy stat names to
 * signals, counter readings to increases, learning a stream's counter
 * mode, admin addresses and the admin JSON.
 */
import { describe, expect, it } from "vitest";
import { adminAddressFromMetadata, adminAddressResolver, adminBaseUrl } from "../../src/health/admin-address";
import { parseAdminStatsJson } from "../../src/health/admin-stats-json";
import { CounterModeDetector } from "../../src/health/counter-mode";
import { CounterTracker } from "../../src/health/counter-tracker";
import { isWasmStat, statNameOf, statSignal } from "../../src/health/stat-names";
import type { NodeInfo } from "../../src/vocabulary/node-info";

const node = (id: string, metadata: Record<string, unknown> = {}): NodeInfo => ({ id, cluster: "", locality: { region: "", zone: "", subZone: "" }, metadata, userAgent: "" });

describe("stat names", () => {
  it("maps Envoy's wasm and ECDS counters to signals", () => {
    expect(statSignal("wasm.f1@0123abcd.vm_reload_success")).toEqual({ kind: "vm_reload_success", plugin: "f1@0123abcd" });
    expect(statSignal("wasm.f1@0123abcd.vm_reload_failure")).toEqual({ kind: "vm_reload_failure", plugin: "f1@0123abcd" });
    expect(statSignal("wasm.my.dotted.plugin.vm_reload_backoff")).toEqual({ kind: "vm_reload_backoff", plugin: "my.dotted.plugin" });
    expect(statSignal("wasm.envoy.wasm.runtime.v8.created")).toEqual({ kind: "vm_created", runtime: "envoy.wasm.runtime.v8" });
    expect(statSignal("wasm.envoy.wasm.runtime.wamr.created")).toEqual({ kind: "vm_created", runtime: "envoy.wasm.runtime.wamr" });
    expect(statSignal("wasm.remote_load_fetch_failures")).toEqual({ kind: "remote_fetch_failure" });
    expect(statSignal("extension_config_discovery.http_filter.f1.config_fail")).toEqual({ kind: "ecds_config_fail", filter: "f1", filterKind: "http_filter" });
    expect(statSignal("extension_config_discovery.network_filter.extensions.io/ns.guard.update_rejected")).toEqual({
      kind: "ecds_config_fail",
      filter: "extensions.io/ns.guard",
      filterKind: "network_filter",
    });
  });

  it("gives no signal for the other wasm stats, and keeps only wasm.* and extension_config_discovery.* in the view", () => {
    for (const n of [
      "wasm.f1@0123abcd.vm_reload",
      "wasm.f1@0123abcd.vm_memory_size",
      "wasm.envoy.wasm.runtime.v8.active",
      "wasm.remote_load_fetch_successes",
      "wasm.vm_reload_success",
      "wasm..created",
      "extension_config_discovery.http_filter.f1.config_reload",
      "extension_config_discovery.listener_filter.f1.config_fail",
      "http.ingress.downstream_rq_5xx",
      "wasmcustom.my_metric",
    ]) {
      expect(statSignal(n), n).toBeUndefined();
    }
    expect(isWasmStat("wasm.remote_load_cache_entries")).toBe(true);
    expect(isWasmStat("extension_config_discovery.http_filter.f1.update_success")).toBe(true);
    expect(isWasmStat("wasmcustom.my_metric")).toBe(false);
    expect(isWasmStat("cluster.wasm.upstream_rq_total")).toBe(false);
  });

  it("puts back a segment a custom tag extractor moved into a label, and leaves whole names alone", () => {
    expect(statNameOf("wasm.vm_reload_failure", [{ name: "wasm_plugin", value: "f1@0123abcd" }])).toBe("wasm.f1@0123abcd.vm_reload_failure");
    expect(statNameOf("wasm.created", [{ name: "x", value: "envoy.wasm.runtime.v8" }])).toBe("wasm.envoy.wasm.runtime.v8.created");
    expect(statNameOf("extension_config_discovery.config_fail", [{ name: "filter_name", value: "f1" }, { name: "filter_type", value: "network_filter." }])).toBe(
      "extension_config_discovery.network_filter.f1.config_fail",
    );
    expect(statNameOf("wasm.f1@0123abcd.vm_reload_success", [{ name: "plugin_name", value: "other@11111111" }])).toBe("wasm.f1@0123abcd.vm_reload_success");
    expect(statNameOf("wasm.vm_reload_success", [{ name: "zone", value: "z1" }])).toBe("wasm.vm_reload_success");
  });
});

describe("CounterTracker", () => {
  it("cumulative: a baseline first, then increases; a new stat counts whole; a decrease counts as a restart from zero", () => {
    const t = new CounterTracker();
    const inc = (counters: [string, number][]) => Object.fromEntries(t.increases("n", "cumulative", counters));
    expect(inc([["a", 5]])).toEqual({});
    expect(inc([["a", 7]])).toEqual({ a: 2 });
    expect(inc([["a", 7], ["b", 3]])).toEqual({ b: 3 });
    expect(inc([["a", 2]])).toEqual({ a: 2 });
  });

  it("delta: each value is the increase; switching mode starts the node afresh", () => {
    const t = new CounterTracker();
    expect(Object.fromEntries(t.increases("n", "delta", [["a", 3], ["b", 0]]))).toEqual({ a: 3 });
    expect(Object.fromEntries(t.increases("n", "cumulative", [["a", 10]]))).toEqual({});
    expect(Object.fromEntries(t.increases("n", "cumulative", [["a", 11]]))).toEqual({ a: 1 });
  });

  it("stays bounded: least recently read stats and nodes go first", () => {
    const t = new CounterTracker({ maxStatsPerNode: 2, maxNodes: 2 });
    t.increases("n1", "cumulative", [["a", 1], ["b", 1], ["c", 1]]);
    t.increases("n2", "cumulative", []);
    t.increases("n3", "cumulative", []);
    expect(t.size()).toEqual({ nodes: 2, stats: 0 });
    t.increases("n2", "cumulative", [["a", 1], ["b", 1], ["c", 1]]);
    expect(t.size()).toEqual({ nodes: 2, stats: 2 });
  });
});

describe("CounterModeDetector", () => {
  const m = (o: Record<string, number>) => new Map(Object.entries(o));

  it("learns cumulative when counters only rise, deltas when more fall than rise", () => {
    const c = new CounterModeDetector();
    expect(c.observe(m({ a: 1, b: 4, c: 9 }))).toBeUndefined();
    expect(c.observe(m({ a: 1, b: 6, c: 9 }))).toBe("cumulative");
    const d = new CounterModeDetector();
    expect(d.observe(m({ a: 1, b: 4, c: 9 }))).toBeUndefined();
    expect(d.observe(m({ a: 0, b: 5, c: 2 }))).toBe("delta");
  });

  it("learns deltas from a message that is mostly zeros (an idle flush)", () => {
    expect(new CounterModeDetector().observe(m({ a: 0, b: 0, c: 3, d: 0 }))).toBe("delta");
  });

  it("waits while nothing tells, then takes Envoy's default (cumulative); a configured mode is used as is", () => {
    const c = new CounterModeDetector(undefined, 3);
    expect(c.observe(m({ a: 1 }))).toBeUndefined();
    expect(c.observe(m({ a: 1 }))).toBeUndefined();
    expect(c.observe(m({ a: 1 }))).toBe("cumulative");
    expect(new CounterModeDetector("delta").observe(m({ a: 5 }))).toBe("delta");
    const s = new CounterModeDetector();
    s.observe(m({ a: 1 }));
    expect(s.settle()).toBe("cumulative");
  });
});

describe("admin addresses and JSON", () => {
  it("reads the admin address from metadata (wasmxds.admin flat or nested, admin_address); the explicit map wins", () => {
    expect(adminAddressFromMetadata(node("a", { "wasmxds.admin": "10.0.0.1:9901" }))).toBe("10.0.0.1:9901");
    expect(adminAddressFromMetadata(node("a", { wasmxds: { admin: " 10.0.0.2:9901 " } }))).toBe("10.0.0.2:9901");
    expect(adminAddressFromMetadata(node("a", { admin_address: "10.0.0.3:9901" }))).toBe("10.0.0.3:9901");
    expect(adminAddressFromMetadata(node("a", { admin_address: 9901 }))).toBeUndefined();
    const resolve = adminAddressResolver({ a: "127.0.0.1:1" });
    expect(resolve(node("a", { admin_address: "10.0.0.3:9901" }))).toBe("127.0.0.1:1");
    expect(resolve(node("b"))).toBeUndefined();
  });

  it("normalises an admin address to a base URL", () => {
    expect(adminBaseUrl("127.0.0.1:9901")).toBe("http://127.0.0.1:9901");
    expect(adminBaseUrl("[::1]:9901")).toBe("http://[::1]:9901");
    expect(adminBaseUrl("https://envoy-admin.internal:9901/")).toBe("https://envoy-admin.internal:9901");
    expect(adminBaseUrl("ftp://x:1")).toBeUndefined();
    expect(adminBaseUrl("")).toBeUndefined();
  });

  it("reads numeric stats of Envoy's /stats?format=json, skipping text readouts and histograms", () => {
    const body = JSON.stringify({
      stats: [{ name: "wasm.a@0123abcd.vm_reload_success", value: 2 }, { name: "server.version", value: "1.33" }, { histograms: { supported_quantiles: [0.5] } }],
    });
    expect(parseAdminStatsJson(body, 10)).toEqual([{ name: "wasm.a@0123abcd.vm_reload_success", type: "unknown", value: 2 }]);
    expect(() => parseAdminStatsJson("[1]", 10)).toThrow('expected {"stats":[...]}');
    expect(() => parseAdminStatsJson("{", 10)).toThrow(/^not JSON: /);
    expect(() => parseAdminStatsJson(JSON.stringify({ stats: [1, 2, 3] }), 2)).toThrow("3 stats, over the limit of 2");
  });
});
