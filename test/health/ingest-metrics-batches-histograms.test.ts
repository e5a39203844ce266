/**
 * MetricsServiceIngest against simulated Envoys whose sink sends what
 * Envoy's does by default, histograms as SUMMARY and HISTOGRAM families, and
 * splits each flush into messages of batch_size families (docs/ENVOY.md
 * "Metrics service sink"). The crash signals must be the ones an unbatched,
 * counters-and-gauges-only stream yields (ingest-metrics-service.test.ts):
 * the same trap_nth_request {"crashAfter":3} under FAIL_RELOAD, one node with
 * cumulative counters and one with deltas, neither announced.
 *
 * Regressions (issue 12 point 10): the ingest took only a stream's first
 * message as the cumulative baseline, so counters that a batched first flush
 * carries in its later messages were read as increases from zero (the
 * cumulative node reported the 3 VMs created at start-up as new,
 * vm_created 3); and it learned the counter mode by comparing consecutive
 * messages, which for batches hold different counters, so the delta stream
 * was taken as cumulative and a delta counter that stayed at the same
 * non-zero value over two flushes was missed. Now a flush, however many
 * messages it takes, is the unit (src/health/flush-sequence.ts): the whole
 * first flush is the baseline, and each counter is compared with its own
 * previous reading.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock, SimNode } from "../../src/sim";
import { waitFor } from "../helpers/wait";
import { type IngestHarness, settle, startIngestHarness, tally, wasmSnapshot } from "../helpers/ingest-harness";

const PLUGIN = "f1@0123abcd";

describe("metrics service ingest: histogram families and batched flushes", () => {
  let h: IngestHarness;
  const clock = new FakeClock();
  let cumulative: SimNode;
  let delta: SimNode;
  const both = () => [cumulative, delta];
  let written = 0;
  const flushAll = async () => {
    for (const node of both()) written += node.flushMetrics();
    await waitFor(`${written} messages`, () => h.metrics.stats().messagesAccepted >= written);
    await settle();
  };

  beforeAll(async () => {
    h = await startIngestHarness();
    const snapshot = wasmSnapshot(PLUGIN, "trap_nth_request", { configuration: '{"crashAfter":3}', failurePolicy: "FAIL_RELOAD" });
    const common = { xdsAddress: h.address, clock, random: () => 0 };
    const sink = { flushIntervalMs: 3_600_000, batchSize: 5 };
    cumulative = new SimNode({ ...common, id: "cumulative", metricsService: sink });
    delta = new SimNode({ ...common, id: "delta", metricsService: { ...sink, reportCountersAsDeltas: true } });
    for (const n of both()) h.cache.setSnapshot(n.id, snapshot);
    await Promise.all(both().map((n) => n.start()));
    await waitFor("LIVE", () => both().every((n) => n.serverState === "LIVE"), 20_000);
  });

  afterAll(async () => {
    await Promise.all(both().map((n) => n.stop()));
    await h.close();
  });

  it("reads batched flushes with histogram families without rejecting a message or a family", async () => {
    for (const node of both()) node.sendHttp({}, "ingress");
    await flushAll();
    expect(written).toBeGreaterThan(4);
    expect(h.metrics.stats()).toMatchObject({ streamsAccepted: 2, messagesRejected: 0, familiesInvalid: 0 });
    // As unbatched: one flush cannot tell the counter mode, so both streams' stats wait for the next.
    expect(h.metrics.stats()).toMatchObject({ streamsCumulative: 0, streamsDelta: 0 });
    expect(h.signals).toEqual([]);
  });

  it("takes a cumulative stream's whole first flush as the baseline, even split into batches", async () => {
    for (const node of both()) node.sendHttp({}, "ingress");
    await flushAll();
    expect(tally(h.signals, "cumulative")).toEqual({});
    // The delta stream's first flush, held until its mode was known, counts the VMs created at start-up (base, canary, worker).
    expect(tally(h.signals, "delta")).toEqual({ vm_created: 3 });
  });

  it("learns that the batched delta stream reports deltas", () => {
    // Batches of one flush share no counter: each counter is compared with its own reading in the previous flush.
    expect(h.metrics.stats()).toMatchObject({ streamsCumulative: 1, streamsDelta: 1 });
  });

  /** Two requests were served: the 3rd of the VM traps, the next two are refused by the reload backoff, and 1 s later a request reloads the VM. */
  const crashAndReload = () => {
    for (const node of both()) {
      const statuses = Array.from({ length: 3 }, () => node.sendHttp({}, "ingress")?.status);
      expect(statuses).toEqual([503, 503, 503]);
    }
    clock.advance(1000);
    for (const node of both()) expect(node.sendHttp({}, "ingress")?.status).toBe(200);
  };
  const crash = { [`vm_reload_backoff[${PLUGIN}]`]: 2, [`vm_reload_success[${PLUGIN}]`]: 1, vm_created: 1 };

  it("turns FAIL_RELOAD crashes into the same signals as an unbatched stream, for both counter modes", async () => {
    const before = h.signals.length;
    crashAndReload();
    await flushAll();
    await flushAll();
    expect(tally(h.signals.slice(before), "delta")).toEqual(crash);
    expect(tally(h.signals.slice(before), "cumulative")).toEqual(crash);
  });

  it("reads a delta counter that stays at the same non-zero value flush after flush as an increase every flush", async () => {
    for (let round = 0; round < 2; round++) {
      for (const node of both()) expect(node.sendHttp({}, "ingress")?.status).toBe(200);
      const before = h.signals.length;
      crashAndReload();
      await flushAll();
      // Round 2 sends vm_reload_backoff 2 and vm_reload_success 1 again: as cumulative readings they would be no change.
      expect(tally(h.signals.slice(before), "delta")).toEqual(crash);
      expect(tally(h.signals.slice(before), "cumulative")).toEqual(crash);
    }
  });
});
