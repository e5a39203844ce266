/**
 * A worker process that dies (killed here, as the OOM killer would) takes
 * only its own connections: the main process reports those nodes
 * disconnected, keeps serving the others, replaces the worker, and an
 * Envoy that reconnects gets its config again. Also: the connections per
 * client address are counted in the main process across workers.
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../../src/main";
import { FakeClock } from "../../../src/time/fake-clock";
import { TYPE_URLS } from "../../../src/vocabulary/type-urls";
import { AdsClient, OWN_CONNECTION } from "../../helpers/ads-client";
import { startTestApp } from "../../helpers/app";
import { waitFor } from "../../helpers/wait";

const CONFIG = join(import.meta.dirname, "../../../config");

describe("a worker process dies", () => {
  let app: RunningWasmxds;
  const clock = new FakeClock(Date.parse("2026-11-28T10:00:00Z"));
  const clients: AdsClient[] = [];
  const connect = async (id: string) => {
    const c = new AdsClient(app.xdsAddress.port, { id, cluster: "edge" }, grpc.credentials.createInsecure(), OWN_CONNECTION);
    clients.push(c);
    c.request({ typeUrl: TYPE_URLS.listener });
    c.ack(await c.next(TYPE_URLS.listener));
    return c;
  };

  beforeAll(async () => {
    app = await startTestApp(CONFIG, { stateDir: null, workers: 2, clock });
  });
  afterAll(async () => {
    for (const c of clients) c.cancel();
    await app?.close(500);
  });

  it("disconnects only that worker's nodes, is replaced, and a reconnecting node is served", async () => {
    for (let i = 0; i < 4; i++) await connect(`envoy-${i}`);
    const pool = app.workers;
    if (!pool) throw new Error("no worker pool");
    await waitFor("four nodes", () => app.xds.nodes().length === 4);
    expect(pool.workers().map((w) => w.connections)).toEqual([2, 2]);
    const victim = pool.workers()[0];
    const onVictim = app.xds.streamStatuses().filter((s) => s.streamId % 2 === 1).map((s) => s.node?.id);
    expect(onVictim).toHaveLength(2);
    const gone: string[] = [];
    app.xds.events.on((e) => {
      if (e.kind === "disconnect") gone.push(e.node.id);
    });
    process.kill(victim?.pid as number, "SIGKILL");
    await waitFor("the victim's nodes disconnected", () => gone.length === 2 && gone);
    expect(gone.sort()).toEqual([...onVictim].sort());
    expect(app.xds.nodes().length).toBe(2);
    expect(app.events.list().some((e) => e.message.includes("xDS worker process 0 exited"))).toBe(true);
    // Replaced after its back-off, on the control plane's clock.
    clock.advance(1000);
    await waitFor("the worker replaced", () => pool.workers()[0]?.ready && pool.workers()[0]?.pid !== victim?.pid, 15_000);
    const back = await connect("envoy-0-again");
    expect(back.node.id).toBe("envoy-0-again");
    await waitFor("three nodes", () => app.xds.nodes().length === 3);
    // Handed to the replaced worker (it holds the fewest connections), which numbers its streams from a new range.
    const again = app.xds.streamStatuses().find((s) => s.node?.id === "envoy-0-again");
    expect(again?.streamId).toBeGreaterThan(2 ** 32);
    expect(again?.streamId ? again.streamId % 2 : undefined).toBe(1);
  });
});
