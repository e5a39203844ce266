/**
 * MetricsServiceIngest against simulated Envoys whose sink sends what
 * Envoy's does by default, histograms as SUMMARY and HISTOGRAM families, and
 * splits each flush into messages of batch_size families (docs/ENVOY.md
 * "Metrics service sink"). The crash signals must be the ones an unbatched,
 * counters-and-gauges-only stream yields (ingest-metrics-service.test.ts):
 * the same trap_nth_request {"crashAfter":3} under FAIL_RELOAD, one node with
 * cumulative counters and one with deltas, neither announced.
 *
 * Known failure (src/health, reported in issue 12's work, not fixed here):
 * the ingest takes only a stream's first message as the cumulative
 * baseline, so counters that a batched first flush carries in its later
 * messages are read as increases from zero; the cumulative node then reports
 * the 3 VMs created at start-up as new (vm_created 3). That test is marked
 * `it.fails` until the ingest treats a whole first flush as the baseline.
 * Likewise the counter mode is learned by comparing consecutive messages,
 * which for batches hold different counters: the delta stream is taken as
 * cumulative (also `it.fails`). Its crash signals happen to come out right
 * here; a delta counter that stays at the same non-zero value over two
 * flushes would be missed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock, SimNode } from "../../src/sim";
import { waitFor } from "../sim/helpers/wait";
import { type IngestHarness, settle, startIngestHarness, tally, wasmSnapshot } from "./ingest-harness";

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
    // As unbatched: a delta stream's first flush counts the VMs created at start-up (base, canary, worker).
    expect(tally(h.signals, "delta")).toEqual({ vm_created: 3 });
  });

  it.fails("takes a cumulative stream's whole first flush as the baseline, even split into batches (known ingest bug)", () => {
    expect(tally(h.signals, "cumulative")).toEqual({});
  });

  it("turns FAIL_RELOAD crashes into the same signals as an unbatched stream, for both counter modes", async () => {
    for (const node of both()) {
      const statuses = Array.from({ length: 4 }, () => node.sendHttp({}, "ingress")?.status);
      expect(statuses).toEqual([200, 503, 503, 503]); // the 3rd request overall traps; then reloads are refused by backoff
    }
    clock.advance(1000);
    for (const node of both()) expect(node.sendHttp({}, "ingress")?.status).toBe(200);
    await flushAll();
    await flushAll();
    const crash = { [`vm_reload_backoff[${PLUGIN}]`]: 2, [`vm_reload_success[${PLUGIN}]`]: 1 };
    expect(tally(h.signals, "delta")).toEqual({ ...crash, vm_created: 3 + 1 });
    // The crash itself is read right from the cumulative stream too; only the start-up baseline is off (see above).
    const { vm_created: _created, ...cumulativeCrash } = tally(h.signals, "cumulative");
    expect(cumulativeCrash).toEqual(crash);
  });

  it.fails("learns that the batched delta stream reports deltas (known ingest bug)", () => {
    // CounterModeDetector compares each message with the previous one; batches of one flush
    // share no counter, so it decides nothing and defaults to cumulative after 3 messages.
    expect(h.metrics.stats()).toMatchObject({ streamsCumulative: 1, streamsDelta: 1 });
  });
});
