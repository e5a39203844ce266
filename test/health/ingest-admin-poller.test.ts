/**
 * AdminStatsPoller pulling `/stats?format=json` from simulated Envoys' admin
 * ports (addresses from node metadata, as the node sent it over xDS, and
 * from an explicit map) while a real module crashes under FAIL_RELOAD, next
 * to admin addresses that refuse, hang, fail or answer garbage: each is
 * logged once, retried, and never holds up the others.
 *
 * The poller's timers (request timeout, interval) run on a FakeClock of
 * their own: the hanging node times out when the test advances that clock,
 * after every other node has answered. Before, they were real 300 ms (and
 * 20 ms) timers, and on a loaded machine the simulated Envoys' real HTTP
 * answers took longer: "meta" timed out too and the interval test counted
 * failed polls (2 failed runs in 4 for one helper; reproduced with two busy
 * loops beside the test).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminAddressResolver } from "../../src/health/admin-address";
import { AdminStatsPoller } from "../../src/health/admin-poller";
import { memoryLogger } from "../../src/logger";
import { FakeClock, SimNode } from "../../src/sim";
import type { NodeInfo } from "../../src/vocabulary/node-info";
import { freePort } from "../helpers/ports";
import { waitFor } from "../helpers/wait";
import { type IngestHarness, settle, startIngestHarness, tally, wasmSnapshot } from "../helpers/ingest-harness";

const PLUGIN = "f1@0123abcd";
const PULL_FAILED = "could not pull admin stats; retrying next interval";
const TIMEOUT_MS = 300;
/** How long real sockets may take to answer on a loaded machine (a deadline, not a sleep). */
const ANSWERED_WITHIN_MS = 20_000;

const nodeInfo = (id: string, metadata: Record<string, unknown> = {}): NodeInfo => ({
  id,
  cluster: "edge",
  locality: { region: "", zone: "", subZone: "" },
  metadata,
  userAgent: "envoy",
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}


describe("admin stats poller", () => {
  let h: IngestHarness;
  const clock = new FakeClock();
  /** The poller's own time: advancing it never moves the simulated Envoys' FAIL_RELOAD backoff. */
  const pollClock = new FakeClock();
  const logger = memoryLogger();
  let meta: SimNode;
  let mapped: SimNode;
  let poller: AdminStatsPoller;
  const skipped = new Set<string>();
  let garbageIsJson = false;
  const servers: Server[] = [];
  const explicit = new Map<string, string>();

  beforeAll(async () => {
    h = await startIngestHarness();
    const snapshot = wasmSnapshot(PLUGIN, "trap_nth_request", { configuration: '{"crashAfter":3}', failurePolicy: "FAIL_RELOAD" });
    const common = { xdsAddress: h.address, clock, random: () => 0 };
    for (const n of ["meta", "mapped"]) h.cache.setSnapshot(n, snapshot);
    // The metadata must name the admin port before the node starts: take a free one, and another if it got taken meanwhile.
    for (let attempt = 1; ; attempt++) {
      const metaPort = await freePort();
      meta = new SimNode({ ...common, id: "meta", adminPort: metaPort, metadata: { "wasmxds.admin": `127.0.0.1:${metaPort}` } });
      try {
        await meta.start();
        break;
      } catch (err) {
        await meta.stop();
        if (attempt === 3) throw err;
      }
    }
    mapped = new SimNode({ ...common, id: "mapped", adminPort: 0 });
    await mapped.start();
    await waitFor("LIVE", () => meta.serverState === "LIVE" && mapped.serverState === "LIVE", 20_000);
    explicit.set("mapped", `http://127.0.0.1:${mapped.adminAddress?.port}`);

    const garbage = await listen((_req, res) => res.end(garbageIsJson ? '{"stats":[{"name":"wasm.remote_load_fetch_failures","value":0}]}' : "<html>admin</html>"));
    const hang = await listen(() => {});
    const failing = await listen((_req, res) => {
      res.writeHead(500);
      res.end("boom");
    });
    servers.push(garbage.server, hang.server, failing.server);
    explicit.set("garbage", `127.0.0.1:${garbage.port}`);
    explicit.set("hang", `127.0.0.1:${hang.port}`);
    explicit.set("failing", `127.0.0.1:${failing.port}`);
    explicit.set("refused", `127.0.0.1:${await freePort()}`);
    poller = new AdminStatsPoller({ hub: h.hub, logger, intervalMs: 60_000, timeoutMs: TIMEOUT_MS, clock: pollClock, addressOf: adminAddressResolver(explicit), skip: (id) => skipped.has(id) });
  });

  /** One round in which every node answers or fails at its own pace; then the hanging node's timeout falls due. */
  const roundWithHang = async () => {
    const round = poller.pollNow();
    await waitFor("every node but hang done", () => poller.inFlight().join() === "hang", ANSWERED_WITHIN_MS);
    pollClock.advance(TIMEOUT_MS - 1);
    expect(poller.inFlight()).toEqual(["hang"]); // not a moment early
    pollClock.advance(1);
    return round;
  };

  afterAll(async () => {
    poller.stop();
    await Promise.all([meta.stop(), mapped.stop(), ...servers.map(closeServer)]);
    await h.close();
  });

  it("finds admin addresses in node metadata (as sent over xDS) or the explicit map, and skips nodes without one", () => {
    const fromXds = h.xds.streamStatuses().find((s) => s.node?.id === "meta")?.node;
    expect(fromXds?.metadata).toEqual({ "wasmxds.admin": expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(poller.track(fromXds as NodeInfo)).toBe(true);
    for (const id of ["mapped", "garbage", "hang", "failing", "refused"]) expect(poller.track(nodeInfo(id))).toBe(true);
    expect(poller.track(nodeInfo("no-admin"))).toBe(false);
    expect(poller.track(nodeInfo("odd", { admin_address: "ftp://127.0.0.1:1" }))).toBe(false);
    expect(poller.tracked().sort()).toEqual(["failing", "garbage", "hang", "mapped", "meta", "refused"]);
  });

  it("polls every node on its own: the first poll is a baseline, and each failure is reported for its node", async () => {
    const outcomes = new Map((await roundWithHang()).map((o) => [o.nodeId, o]));
    expect(outcomes.get("meta")).toEqual({ nodeId: "meta", ok: true, signals: 0 });
    expect(outcomes.get("mapped")).toEqual({ nodeId: "mapped", ok: true, signals: 0 });
    expect(outcomes.get("garbage")?.error).toMatch(/^not JSON: /);
    expect(outcomes.get("hang")?.error).toBe("timed out after 300 ms");
    expect(outcomes.get("failing")?.error).toMatch(/^HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/stats\?format=json&filter=/);
    expect(outcomes.get("refused")?.error).toMatch(/ECONNREFUSED/);
    const warned = logger.records.filter((r) => r.level === "warn").map((r) => [r.fields["node"], r.msg]);
    expect(warned.sort()).toEqual([
      ["failing", PULL_FAILED],
      ["garbage", PULL_FAILED],
      ["hang", PULL_FAILED],
      ["odd", "not an admin address; the node's stats are not pulled"],
      ["refused", PULL_FAILED],
    ]);
    expect(h.signals).toEqual([]);
  });

  it("turns FAIL_RELOAD crashes into the same signals as the push path, source admin-pull", async () => {
    for (const node of [meta, mapped]) expect(Array.from({ length: 5 }, () => node.sendHttp({}, "ingress")?.status)).toEqual([200, 200, 503, 503, 503]);
    clock.advance(1000);
    for (const node of [meta, mapped]) expect(node.sendHttp({}, "ingress")?.status).toBe(200);
    const warnings = logger.records.filter((r) => r.level === "warn").length;
    await roundWithHang();
    await settle();
    const crash = { [`vm_reload_backoff[${PLUGIN}]`]: 2, [`vm_reload_success[${PLUGIN}]`]: 1, vm_created: 1 };
    expect(tally(h.signals, "meta")).toEqual(crash);
    expect(tally(h.signals, "mapped")).toEqual(crash);
    expect(h.signals.every((s) => s.source === "admin-pull")).toBe(true);
    // Stamped on the poller's clock, when the round read them (before the hanging node's timeout).
    expect(new Set(h.signals.map((s) => s.at))).toEqual(new Set([pollClock.now() - TIMEOUT_MS]));
    // Still failing: logged at debug, not warned again.
    expect(logger.records.filter((r) => r.level === "warn").length).toBe(warnings);
    expect(poller.latest("meta")).toMatchObject({ source: "admin-pull", counterMode: "cumulative" });
    expect(poller.latest("meta")?.stats.find((s) => s.name === `wasm.${PLUGIN}.vm_reload_backoff`)).toEqual({ name: `wasm.${PLUGIN}.vm_reload_backoff`, type: "unknown", value: 2 });
  });

  it("says when a failing node answers again, leaves out skipped and untracked nodes", async () => {
    garbageIsJson = true;
    skipped.add("meta");
    for (const id of ["hang", "failing", "refused"]) poller.untrack(id);
    const outcomes = await poller.pollNow();
    expect(outcomes.map((o) => [o.nodeId, o.ok]).sort()).toEqual([
      ["garbage", true],
      ["mapped", true],
    ]);
    expect(logger.records.some((r) => r.level === "info" && r.msg === "admin stats reachable again" && r.fields["node"] === "garbage")).toBe(true);
    expect(poller.stats()).toMatchObject({ nodesTracked: 3, signals: 6 });
  });

  it("polls every interval after start() and stops with stop()", async () => {
    const timedClock = new FakeClock();
    // The timeout is the interval (20 ms), on the poller's clock: it cannot fall due while the clock stands still.
    const timed = new AdminStatsPoller({ hub: h.hub, intervalMs: 20, clock: timedClock, addressOf: adminAddressResolver(explicit) });
    timed.track(nodeInfo("mapped"));
    const roundDone = (n: number) => waitFor(`poll ${n} answered`, () => timed.stats().polls === n && timed.inFlight().length === 0, ANSWERED_WITHIN_MS);
    timed.start();
    await roundDone(1);
    for (const n of [2, 3]) {
      // The next round is due one interval after the previous one ended, not before.
      timedClock.advance(19);
      expect(timed.stats().polls).toBe(n - 1);
      timedClock.advance(1);
      await roundDone(n);
    }
    timed.stop();
    timedClock.advance(60_000);
    expect(timed.stats()).toMatchObject({ polls: 3, pollFailures: 0 });
    expect(timedClock.pending).toBe(0);
  });

  it("runs one loop after stop() and start() while a round is in flight", async () => {
    const loopClock = new FakeClock();
    const looped = new AdminStatsPoller({ hub: h.hub, intervalMs: 1000, timeoutMs: 500, clock: loopClock, addressOf: adminAddressResolver(explicit) });
    looped.track(nodeInfo("hang"));
    looped.start();
    expect(looped.inFlight()).toEqual(["hang"]);
    looped.stop();
    looped.start(); // "hang" is still in flight until its cancellation settles: this loop's first round skips it
    await waitFor("the cancelled poll settled", () => looped.inFlight().length === 0);
    await settle();
    // Only the second loop re-armed (before: both did, and every interval polled twice).
    expect(loopClock.pending).toBe(1);
    loopClock.advance(1000);
    expect(looped.stats().polls).toBe(2);
    looped.stop();
  });

  it("cancels a poll in flight on stop() without counting it as the node's failure", async () => {
    const slow = new AdminStatsPoller({ hub: h.hub, intervalMs: 60_000, timeoutMs: 10_000, addressOf: adminAddressResolver(explicit) });
    slow.track(nodeInfo("hang"));
    const round = slow.pollNow();
    slow.stop();
    expect(await round).toEqual([{ nodeId: "hang", ok: false, signals: 0, error: "cancelled" }]);
    expect(slow.stats()).toMatchObject({ polls: 1, pollFailures: 0 });
  });
});
