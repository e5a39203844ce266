/**
 * MetricsServiceIngest against raw @grpc/grpc-js client streams: how a
 * stream is identified and read (identifier on the first message only,
 * counter modes, resets, tag-extracted names with labels), and bad streams
 * (no node, garbage bytes or families, huge messages, a node id changing,
 * a stream failing mid-way) that end alone while the others keep working.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS_SERVICE_PATH } from "../../src/health/metrics-service";
import { waitFor } from "../helpers/wait";
import { type IngestHarness, openRawStream, settle, startIngestHarness, tally } from "../helpers/ingest-harness";

const MESSAGE = "envoy.service.metrics.v3.StreamMetricsMessage";
const P = "p@0123abcd";

type Labels = { name: string; value: string }[];
const counter = (name: string, value: number, label: Labels = []) => ({ name, type: "COUNTER", metric: [{ counter: { value }, timestamp_ms: 1, label }] });
const gauge = (name: string, value: number) => ({ name, type: "GAUGE", metric: [{ gauge: { value }, timestamp_ms: 1 }] });
const first = (id: string, envoy_metrics: object[]) => ({ identifier: { node: { id, cluster: "edge" } }, envoy_metrics });
const next = (envoy_metrics: object[]) => ({ envoy_metrics });
const open = (h: IngestHarness) => openRawStream(h.address, METRICS_SERVICE_PATH, MESSAGE);

describe("metrics service streams (raw gRPC clients)", () => {
  let h: IngestHarness;

  beforeAll(async () => {
    h = await startIngestHarness({
      metrics: {
        // What a deployment that knows its sinks would say; other nodes are learned.
        countersAsDeltas: (node) => (node.id.startsWith("delta-") ? true : node.id.startsWith("cum-") ? false : undefined),
        limits: { maxFamiliesPerMessage: 1000 },
      },
    });
  });

  afterAll(async () => {
    await h.close();
  });

  it("attributes messages without identifier to the stream's node and learns cumulative counters", async () => {
    const s = open(h);
    s.write(first("learned", [counter(`wasm.${P}.vm_reload_failure`, 1), counter("http.in.downstream_rq_total", 5), gauge("wasm.envoy.wasm.runtime.v8.active", 2)]));
    s.write(next([counter(`wasm.${P}.vm_reload_failure`, 3), counter("http.in.downstream_rq_total", 9)]));
    s.end();
    expect(await s.done).toEqual({ code: grpc.status.OK, details: "" });
    await settle();
    expect(tally(h.signals, "learned")).toEqual({ [`vm_reload_failure[${P}]`]: 2 });
  });

  it("counts a delta stream's first message at once when configured as deltas", async () => {
    const s = open(h);
    s.write(first("delta-a", [counter(`wasm.${P}.vm_reload_success`, 2), counter("wasm.remote_load_fetch_failures", 1)]));
    await waitFor("signals", () => tally(h.signals, "delta-a")[`vm_reload_success[${P}]`] === 2);
    s.write(next([counter(`wasm.${P}.vm_reload_success`, 0), counter("wasm.remote_load_fetch_failures", 3)]));
    s.end();
    await s.done;
    await settle();
    expect(tally(h.signals, "delta-a")).toEqual({ [`vm_reload_success[${P}]`]: 2, remote_fetch_failure: 4 });
  });

  it("treats a cumulative counter that went down (Envoy restarted: a new stream) as counting from zero", async () => {
    const one = open(h);
    one.write(first("cum-r", [counter(`wasm.${P}.vm_reload_backoff`, 5)]));
    one.write(next([counter(`wasm.${P}.vm_reload_backoff`, 7)]));
    one.end();
    await one.done;
    const two = open(h);
    two.write(first("cum-r", [counter(`wasm.${P}.vm_reload_backoff`, 1)]));
    two.end();
    await two.done;
    await settle();
    expect(h.signals.filter((x) => x.nodeId === "cum-r").map((x) => x.count)).toEqual([2, 1]);
  });

  it("rebuilds names whose plugin, runtime or filter a custom tag extractor moved into labels", async () => {
    const s = open(h);
    s.write(
      first("delta-labels", [
        counter("wasm.vm_reload_success", 1, [{ name: "plugin_name", value: "q@89abcdef" }]),
        counter("wasm.vm_reload_failure", 1, [{ name: "zone", value: "z1" }, { name: "wasm_id", value: "r@76543210" }]),
        counter("wasm.created", 2, [{ name: "runtime", value: "envoy.wasm.runtime.v8" }]),
        counter("extension_config_discovery.http_filter.update_rejected", 1, [{ name: "extension_config_name", value: "f9" }]),
        // A label that adds to a whole name (e.g. a fixed_value tag) changes nothing.
        counter(`wasm.${P}.vm_reload_backoff`, 4, [{ name: "envoy_cluster", value: "edge" }]),
      ]),
    );
    s.end();
    await s.done;
    await settle();
    expect(tally(h.signals, "delta-labels")).toEqual({
      "vm_reload_success[q@89abcdef]": 1,
      "vm_reload_failure[r@76543210]": 1,
      vm_created: 2,
      "ecds_config_fail[f9]": 1,
      [`vm_reload_backoff[${P}]`]: 4,
    });
    expect(h.signals.find((x) => x.filter === "f9")?.evidence).toBe("extension_config_discovery.http_filter.f9.update_rejected");
  });

  it("ends a stream whose first message has no identifier.node, or a node without id", async () => {
    const before = h.metrics.stats().streamsRejected;
    const a = open(h);
    a.write(next([counter(`wasm.${P}.vm_reload_success`, 1)]));
    const b = open(h);
    b.write({ identifier: { node: { cluster: "edge" } }, envoy_metrics: [] });
    for (const r of [await a.done, await b.done]) {
      expect(r.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(r.details).toBe("the first StreamMetricsMessage of a stream must carry identifier.node with a non-empty id");
    }
    expect(h.metrics.stats().streamsRejected).toBe(before + 2);
  });

  it("ends a stream that sends bytes that are not a StreamMetricsMessage, or changes node id", async () => {
    const a = open(h);
    a.writeBytes(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(await a.done).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^not a valid StreamMetricsMessage: /) });
    const b = open(h);
    b.write(first("cum-x", []));
    b.write(first("cum-y", []));
    expect(await b.done).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'identifier.node.id changed from "cum-x" to "cum-y" within one stream' });
  });

  it("skips and counts garbage families, keeping the good ones and the stream", async () => {
    const before = h.metrics.stats();
    const s = open(h);
    s.write(
      first("delta-g", [
        { name: "", type: "COUNTER", metric: [{ counter: { value: 1 } }] },
        { name: `wasm.${P}.vm_reload_failure`, type: "COUNTER", metric: [{ gauge: { value: 1 } }] },
        counter(`wasm.${P}.vm_reload_backoff`, -1),
        counter(`wasm.${P}.vm_reload_backoff`, Number.NaN),
        { name: "wasm.x", type: "COUNTER", metric: [] },
        { name: "garbage.histogram", type: "HISTOGRAM", metric: [{ histogram: { sample_count: 1 } }] },
        counter(`wasm.${P}.vm_reload_success`, 1),
      ]),
    );
    s.end();
    expect((await s.done).code).toBe(grpc.status.OK);
    await settle();
    const after = h.metrics.stats();
    expect(after.familiesInvalid - before.familiesInvalid).toBe(5);
    expect(after.familiesUnrelated - before.familiesUnrelated).toBe(1);
    expect(tally(h.signals, "delta-g")).toEqual({ [`vm_reload_success[${P}]`]: 1 });
  });

  it("ends a stream with a message over the size or family limit with RESOURCE_EXHAUSTED", async () => {
    const a = open(h);
    a.write(first("cum-big", [{ name: "wasm.x.created", help: "x".repeat(9 * 1024 * 1024), type: "COUNTER", metric: [{ counter: { value: 1 } }] }]));
    expect(await a.done).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/bytes is over the limit of 8388608 bytes$/) });
    const b = open(h);
    b.write(first("cum-many", Array.from({ length: 1001 }, (_, i) => counter(`c.${i}`, i))));
    expect(await b.done).toEqual({ code: grpc.status.RESOURCE_EXHAUSTED, details: "1001 metric families in one message, over the limit of 1000" });
    expect(h.metrics.latest("cum-many")).toBeUndefined();
  });

  it("keeps a stream working while another fails or is cancelled mid-way", async () => {
    const good = open(h);
    const bad = open(h);
    const gone = open(h);
    good.write(first("cum-good", [counter(`wasm.${P}.vm_reload_success`, 1)]));
    bad.write(first("cum-bad", [counter(`wasm.${P}.vm_reload_success`, 1)]));
    gone.write(first("cum-gone", [counter(`wasm.${P}.vm_reload_success`, 1)]));
    await waitFor("three streams", () => h.metrics.isPushing("cum-good") && h.metrics.isPushing("cum-bad") && h.metrics.isPushing("cum-gone"));
    bad.writeBytes(Buffer.from("not protobuf at all"));
    gone.cancel();
    expect((await bad.done).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await gone.done).code).toBe(grpc.status.CANCELLED);
    await waitFor("streams closed", () => !h.metrics.isPushing("cum-bad") && !h.metrics.isPushing("cum-gone"));
    good.write(next([counter(`wasm.${P}.vm_reload_success`, 4)]));
    good.end();
    expect((await good.done).code).toBe(grpc.status.OK);
    await settle();
    expect(tally(h.signals, "cum-good")).toEqual({ [`vm_reload_success[${P}]`]: 3 });
    expect(tally(h.signals, "cum-bad")).toEqual({});
    expect(h.metrics.stats().streamsActive).toBe(0);
  });
});
