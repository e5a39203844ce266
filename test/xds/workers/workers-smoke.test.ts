/**
 * `workers: 2`: the streams run in two worker processes, the decisions in
 * the test's process. Real ADS clients on one port are spread over both
 * workers, get the bundled example's config, and what they do (connect,
 * ACK, NACK, disconnect) reaches the main process's events, statuses and
 * NACK history as it does in one process.
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../../src/main";
import { TYPE_URLS } from "../../../src/vocabulary/type-urls";
import { AdsClient, OWN_CONNECTION, resourcesOf } from "../../helpers/ads-client";
import { startTestApp } from "../../helpers/app";
import { waitFor } from "../../helpers/wait";

const CONFIG = join(import.meta.dirname, "../../../config");

describe("xDS streams in two worker processes", () => {
  let app: RunningWasmxds;
  const clients: AdsClient[] = [];

  beforeAll(async () => {
    app = await startTestApp(CONFIG, { stateDir: null, workers: 2 });
  });

  afterAll(async () => {
    for (const c of clients) c.cancel();
    await app?.close(500);
  });

  it("serves every client its listeners and records their ACKs, whichever worker holds them", async () => {
    for (let i = 0; i < 6; i++) clients.push(new AdsClient(app.xdsAddress.port, { id: `envoy-${i}`, cluster: "edge" }, grpc.credentials.createInsecure(), OWN_CONNECTION));
    for (const c of clients) {
      c.request({ typeUrl: TYPE_URLS.cluster });
      c.request({ typeUrl: TYPE_URLS.listener });
    }
    for (const c of clients) {
      const cds = await c.next(TYPE_URLS.cluster);
      const lds = await c.next(TYPE_URLS.listener);
      expect(resourcesOf(lds).map((l) => l.name).sort()).toEqual(["ingress", "tcp-in"]);
      c.ack(cds);
      c.ack(lds);
    }
    await waitFor("six listener ACKs", () => app.xds.streamStatuses().filter((s) => s.types.find((t) => t.typeUrl === TYPE_URLS.listener)?.acked).length === 6);
    const statuses = app.xds.streamStatuses();
    expect(new Set(statuses.map((s) => s.node?.id))).toEqual(new Set(clients.map((_, i) => `envoy-${i}`)));
    // Stream ids come from both workers (each numbers its own residue).
    expect(new Set(statuses.map((s) => s.streamId % 2))).toEqual(new Set([0, 1]));
    expect(app.xds.nodeInfo("envoy-3")?.cluster).toBe("edge");
    // The admin API shows each worker and the connections it holds (each client its own).
    const res = await fetch(`http://127.0.0.1:${app.adminAddress?.port}/v1/workers`);
    const body = (await res.json()) as { workers: Array<{ index: number; pid: number; ready: boolean; connections: number }> };
    expect(body.workers.map((w) => [w.index, w.ready, w.connections])).toEqual([
      [0, true, 3],
      [1, true, 3],
    ]);
    expect(body.workers.every((w) => Number.isInteger(w.pid) && w.pid !== process.pid)).toBe(true);
    const lds = statuses[0]?.types.find((t) => t.typeUrl === TYPE_URLS.listener);
    expect(lds?.wildcard).toBe(true);
    expect(lds?.sent?.version).toBe(lds?.acked?.version);
  });

  it("records a NACK once, with the version rejected, and a disconnect", async () => {
    const c = new AdsClient(app.xdsAddress.port, { id: "envoy-nack", cluster: "edge" });
    clients.push(c);
    const disconnects: string[] = [];
    app.xds.events.on((e) => {
      if (e.kind === "disconnect") disconnects.push(e.node.id);
    });
    c.request({ typeUrl: TYPE_URLS.cluster });
    const cds = await c.next(TYPE_URLS.cluster);
    c.nack(cds, "", "cluster rejected by the test");
    await waitFor("the NACK", () => app.xds.nacks({ nodeId: "envoy-nack" }).length === 1);
    const nack = app.xds.nacks({ nodeId: "envoy-nack" })[0];
    expect(nack?.message).toBe("cluster rejected by the test");
    expect(nack?.rejectedVersion).toBe(cds.version_info);
    c.cancel();
    await waitFor("the disconnect", () => disconnects.includes("envoy-nack"));
    expect(app.xds.nodeInfo("envoy-nack")).toBeUndefined();
  });
});
