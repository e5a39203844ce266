/**
 * AdminStatsPoller pulling `/stats?format=json` from simulated Envoys' admin
 * ports (addresses from node metadata, as the node sent it over xDS, and
 * from an explicit map) while a real module crashes under FAIL_RELOAD, next
 * to admin addresses that refuse, hang, fail or answer garbage: each is
 * logged once, retried, and never holds up the others.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminAddressResolver } from "../../src/health/admin-address";
import { AdminStatsPoller } from "../../src/health/admin-poller";
import { memoryLogger } from "../../src/logger";
import { FakeClock, SimNode } from "../../src/sim";
import type { NodeInfo } from "../../src/xds/node";
import { waitFor } from "../sim/helpers/wait";
import { type IngestHarness, settle, startIngestHarness, tally, wasmSnapshot } from "./ingest-harness";

const PLUGIN = "f1@0123abcd";
const PULL_FAILED = "could not pull admin stats; retrying next interval";

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

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const { server, port } = await listen(() => {});
  await closeServer(server);
  return port;
}

describe("admin stats poller", () => {
  let h: IngestHarness;
  const clock = new FakeClock();
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
    poller = new AdminStatsPoller({ hub: h.hub, logger, intervalMs: 60_000, timeoutMs: 300, addressOf: adminAddressResolver(explicit), skip: (id) => skipped.has(id) });
  });

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
    const outcomes = new Map((await poller.pollNow()).map((o) => [o.nodeId, o]));
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
    await poller.pollNow();
    await settle();
    const crash = { [`vm_reload_backoff[${PLUGIN}]`]: 2, [`vm_reload_success[${PLUGIN}]`]: 1, vm_created: 1 };
    expect(tally(h.signals, "meta")).toEqual(crash);
    expect(tally(h.signals, "mapped")).toEqual(crash);
    expect(h.signals.every((s) => s.source === "admin-pull")).toBe(true);
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
    const timed = new AdminStatsPoller({ hub: h.hub, intervalMs: 20, addressOf: adminAddressResolver(explicit) });
    timed.track(nodeInfo("mapped"));
    timed.start();
    await waitFor("3 polls", () => timed.stats().polls >= 3);
    timed.stop();
    await new Promise((r) => setTimeout(r, 60));
    const polls = timed.stats().polls;
    await new Promise((r) => setTimeout(r, 60));
    expect(timed.stats().polls).toBe(polls);
    expect(timed.stats().pollFailures).toBe(0);
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
