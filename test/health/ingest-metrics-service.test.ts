/**
 * MetricsServiceIngest against simulated Envoys pushing over
 * StreamMetrics on the xDS port, one with cumulative counters and one with
 * report_counters_as_deltas, neither announced to the control plane: real
 * modules crash (trap_nth_request {"crashAfter":3}, FAIL_RELOAD) and a bad
 * one is NACKed, and both streams must yield the same crash signals.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock, SimNode } from "../../src/sim";
import { waitFor } from "../helpers/wait";
import { type IngestHarness, settle, startIngestHarness, tally, wasmSnapshot } from "../helpers/ingest-harness";

const PLUGIN = "f1@0123abcd";

describe("metrics service: crash signals from simulated Envoys (cumulative and delta counters)", () => {
  let h: IngestHarness;
  const clock = new FakeClock();
  let cumulative: SimNode;
  let delta: SimNode;
  const both = () => [cumulative, delta];
  const flushAll = async (n: number) => {
    for (const node of both()) node.flushMetrics();
    await waitFor(`${n} messages`, () => h.metrics.stats().messagesAccepted >= n);
    await settle();
  };

  beforeAll(async () => {
    // The control plane's ingest on the same clock as the simulated Envoys: signals carry its time.
    h = await startIngestHarness({ metrics: { clock } });
    const snapshot = wasmSnapshot(PLUGIN, "trap_nth_request", { configuration: '{"crashAfter":3}', failurePolicy: "FAIL_RELOAD" });
    const common = { xdsAddress: h.address, clock, random: () => 0 };
    // A long flush interval: the test flushes by hand.
    cumulative = new SimNode({ ...common, id: "cumulative", metricsService: { flushIntervalMs: 3_600_000 } });
    delta = new SimNode({ ...common, id: "delta", metricsService: { flushIntervalMs: 3_600_000, reportCountersAsDeltas: true } });
    for (const n of both()) h.cache.setSnapshot(n.id, snapshot);
    await Promise.all(both().map((n) => n.start()));
    await waitFor("LIVE", () => both().every((n) => n.serverState === "LIVE"), 20_000);
  });

  afterAll(async () => {
    await Promise.all(both().map((n) => n.stop()));
    await h.close();
  });

  it("takes a stream's first message as a baseline: no crash signal before anything crashed", async () => {
    await flushAll(2);
    expect(h.metrics.stats()).toMatchObject({ streamsAccepted: 2, streamsActive: 2, messagesAccepted: 2, messagesRejected: 0 });
    expect(h.signals).toEqual([]);
    expect(h.metrics.isPushing("cumulative")).toBe(true);
  });

  it("turns FAIL_RELOAD crashes into vm_reload_* signals for the plugin, identically for both counter modes", async () => {
    for (const node of both()) {
      const statuses = Array.from({ length: 5 }, () => node.sendHttp({}, "ingress")?.status);
      expect(statuses).toEqual([200, 200, 503, 503, 503]); // the 3rd traps; then reloads are refused by backoff
    }
    clock.advance(1000);
    for (const node of both()) expect(node.sendHttp({}, "ingress")?.status).toBe(200); // reloaded
    await flushAll(4);
    const crash = { [`vm_reload_backoff[${PLUGIN}]`]: 2, [`vm_reload_success[${PLUGIN}]`]: 1 };
    expect(tally(h.signals, "cumulative")).toEqual({ ...crash, vm_created: 1 });
    // The delta stream's first message waited until its mode was known, then counted as what it was: the
    // VMs created at start-up (base, canary, worker) since Envoy started.
    expect(tally(h.signals, "delta")).toEqual({ ...crash, vm_created: 3 + 1 });
    const s = h.signals.find((x) => x.kind === "vm_reload_success");
    expect(s).toMatchObject({ plugin: PLUGIN, evidence: `wasm.${PLUGIN}.vm_reload_success`, source: "metrics-service", at: clock.now() });
    expect(h.metrics.stats()).toMatchObject({ streamsCumulative: 1, streamsDelta: 1 });
  });

  it("emits nothing more when nothing changed (cumulative: same values; deltas: zeros)", async () => {
    const before = h.signals.length;
    await flushAll(6);
    expect(h.signals.length).toBe(before);
  });

  it("reports a NACKed ECDS update as ecds_config_fail for the filter", async () => {
    const bad = wasmSnapshot("f1@89abcdef", "configure_false", { configuration: "{}" });
    for (const n of both()) h.cache.setSnapshot(n.id, bad);
    await waitFor("NACKs", () => h.xds.nacks().length === 2);
    const before = h.signals.length;
    await flushAll(8);
    const fresh = h.signals.slice(before);
    // Trying the bad module created its base and canary VMs before on_configure failed.
    expect(fresh.map((s) => [s.nodeId, s.kind, s.filter, s.count]).sort()).toEqual([
      ["cumulative", "ecds_config_fail", "f1", 1],
      ["cumulative", "vm_created", undefined, 2],
      ["delta", "ecds_config_fail", "f1", 1],
      ["delta", "vm_created", undefined, 2],
    ]);
    expect(fresh.find((s) => s.kind === "ecds_config_fail")?.evidence).toBe("extension_config_discovery.http_filter.f1.config_fail");
  });

  it("keeps the latest wasm-related stats per node, and only those", () => {
    const view = h.metrics.latest("cumulative");
    expect(view).toMatchObject({ nodeId: "cumulative", source: "metrics-service", counterMode: "cumulative" });
    const stats = new Map(view?.stats.map((s) => [s.name, s]));
    expect(stats.get(`wasm.${PLUGIN}.vm_reload_success`)).toEqual({ name: `wasm.${PLUGIN}.vm_reload_success`, type: "counter", value: 1 });
    expect(stats.get("wasm.envoy.wasm.runtime.v8.active")?.type).toBe("gauge");
    expect(stats.get("extension_config_discovery.http_filter.f1.config_fail")?.value).toBe(1);
    expect([...stats.keys()].every((n) => n.startsWith("wasm.") || n.startsWith("extension_config_discovery."))).toBe(true);
    expect(h.metrics.latest("delta")?.counterMode).toBe("delta");
    expect(h.metrics.nodes().sort()).toEqual(["cumulative", "delta"]);
  });
});
