/**
 * MetricsServiceIngest reading flushes that Envoy's sink split with
 * batch_size, from raw gRPC client streams that write exactly what Envoy
 * writes (docs/ENVOY.md "Metrics service sink"): every metric stamped with
 * its flush's snapshot time, counters first, batches of `batch_size`
 * families back to back, the last one holding the rest, the identifier on
 * the stream's first message only. The edges the simulator's flushes do not
 * reach: a plugin's counter first used in a later batch of a later flush, a
 * flush of exactly whole batches, and the bound on what waits for the
 * counter mode.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS_SERVICE_PATH } from "../../src/health/metrics-service";
import { waitFor } from "../helpers/wait";
import { type IngestHarness, openRawStream, settle, startIngestHarness, tally } from "../helpers/ingest-harness";

const MESSAGE = "envoy.service.metrics.v3.StreamMetricsMessage";
const P = "p@0123abcd";
const Q = "q@89abcdef";
const CREATED = "wasm.envoy.wasm.runtime.v8.created";

type Family = { name: string; type: string; metric: object[] };
const counter = (name: string, value: number) => ({ name, type: "COUNTER", metric: [{ counter: { value } }] });
const gauge = (name: string, value: number) => ({ name, type: "GAUGE", metric: [{ gauge: { value } }] });

/** One flush as Envoy's sink writes it: every metric stamped with the snapshot time, split into batches. */
function flush(atMs: number, families: Family[], batchSize: number): Family[][] {
  const stamped = families.map((f) => ({ ...f, metric: f.metric.map((m) => ({ ...m, timestamp_ms: atMs })) }));
  const batches: Family[][] = [];
  for (let i = 0; i < stamped.length; i += batchSize) batches.push(stamped.slice(i, i + batchSize));
  return batches;
}

/** A stream that writes flushes, the node identifier on its first message only. */
function sink(h: IngestHarness, nodeId: string) {
  const s = openRawStream(h.address, METRICS_SERVICE_PATH, MESSAGE);
  let first = true;
  return {
    async write(batches: Family[][]) {
      const before = h.metrics.stats().messagesAccepted;
      for (const envoy_metrics of batches) {
        s.write(first ? { identifier: { node: { id: nodeId } }, envoy_metrics } : { envoy_metrics });
        first = false;
      }
      await waitFor(`${batches.length} messages from ${nodeId}`, () => h.metrics.stats().messagesAccepted >= before + batches.length);
      await settle();
    },
    async end() {
      s.end();
      return s.done;
    },
  };
}

describe("metrics service: flushes split into batches", () => {
  let h: IngestHarness;

  beforeAll(async () => {
    h = await startIngestHarness({ metrics: { countersAsDeltas: (node) => (node.id.startsWith("cum-") ? false : undefined) } });
  });

  afterAll(async () => {
    await h.close();
  });

  it("cumulative: the whole first flush is the baseline; a plugin counter first used later counts whole, in whichever batch it comes", async () => {
    const s = sink(h, "cum-new-plugin");
    const common = (rq: number) => [counter("http.in.downstream_rq_total", rq), counter("listener_manager.lds.update_success", 1), counter(CREATED, 3), counter(`wasm.${P}.vm_reload_success`, 1)];
    // 4 counters and a gauge, 2 to a message: the created VMs and P's reload are in the 2nd message.
    await s.write(flush(1000, [...common(5), gauge("wasm.envoy.wasm.runtime.v8.active", 3)], 2));
    expect(tally(h.signals, "cum-new-plugin")).toEqual({});
    // A new plugin Q crashes and is reloaded: its counter comes last, in the 3rd message.
    await s.write(flush(6000, [...common(9), counter(`wasm.${Q}.vm_reload_success`, 2), gauge("wasm.envoy.wasm.runtime.v8.active", 3)], 2));
    expect(tally(h.signals, "cum-new-plugin")).toEqual({ [`vm_reload_success[${Q}]`]: 2 });
    await s.end();
  });

  it("learned deltas: a flush of exactly whole batches is judged when the next flush begins, and nothing it held is lost", async () => {
    const s = sink(h, "delta-whole-batches");
    const counters = (created: number, backoff: number, rq: number, lds: number) => [
      counter(CREATED, created),
      counter(`wasm.${P}.vm_reload_backoff`, backoff),
      counter("http.in.downstream_rq_total", rq),
      counter("listener_manager.lds.update_success", lds),
    ];
    // Flush 1 teaches the batch size (2, 2, then 1); flush 2 is two full batches, so it may go on.
    await s.write(flush(1000, [...counters(3, 2, 5, 1), gauge("wasm.envoy.wasm.runtime.v8.active", 3)], 2));
    await s.write(flush(6000, counters(0, 2, 8, 0), 2));
    expect(h.metrics.stats().streamsDelta).toBe(0);
    expect(tally(h.signals, "delta-whole-batches")).toEqual({});
    // Flush 3 begins: flush 2 is complete, its counters fell (3 → 0, 1 → 0) → deltas; all three flushes count.
    await s.write(flush(11000, counters(0, 2, 4, 0), 2));
    expect(h.metrics.stats().streamsDelta).toBe(1);
    expect(tally(h.signals, "delta-whole-batches")).toEqual({ vm_created: 3, [`vm_reload_backoff[${P}]`]: 2 + 2 + 2 });
    await s.end();
  });
});

describe("metrics service: stats waiting for the counter mode", () => {
  let h: IngestHarness;

  beforeAll(async () => {
    h = await startIngestHarness({ metrics: { limits: { maxPendingStats: 4 } } });
  });

  afterAll(async () => {
    await h.close();
  });

  it("takes the mode as cumulative once more than maxPendingStats wasm stats wait, even within one endless flush", async () => {
    const s = sink(h, "endless");
    // One snapshot time and full batches: the flush never ends, so the mode is never judged.
    const batch = (i: number) => flush(1000, [counter(`wasm.p${i}@0123abcd.vm_reload_success`, 1), counter(`wasm.p${i}@0123abcd.vm_reload_failure`, 1)], 2);
    await s.write([...batch(0), ...batch(1)]);
    expect(h.metrics.stats().streamsCumulative).toBe(0);
    await s.write(batch(2));
    expect(h.metrics.stats().streamsCumulative).toBe(1);
    // Read as the node's first snapshot: a baseline, no signals.
    expect(h.signals).toEqual([]);
    await s.end();
  });
});
