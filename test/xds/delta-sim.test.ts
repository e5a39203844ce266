/**
 * A simulated Envoy with api_type DELTA_GRPC against XdsServer +
 * SnapshotCache: it goes LIVE with the same versions a state-of-the-world
 * node reports, a filter change reaches it as one ECDS resource, a bad
 * filter is NACKed once and the rollback is taken, and a reconnect
 * declares what it holds so the server sends nothing again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { SimNode } from "../../src/sim";
import { waitFor } from "../helpers/wait";
import { type Harness, startHarness } from "../helpers/xds-harness";
import { assignment, ecds, edsCluster, httpListener, moduleBytes, type Res, routeConfig, TYPE_URLS, wasmAny } from "../helpers/xds-resources";

const T = TYPE_URLS;
const input = (list: Res[]) => list.map((r) => ({ name: r.name, message: r.message }));
const filter = (plugin: string, ok = true) =>
  ecds("f1", wasmAny("http", { plugin, rootId: "configure_false", configuration: `{"ok":${ok}}`, code: { inline: moduleBytes("configure_false") } }));
const snapshot = (f: Res) =>
  Snapshot.create({
    [T.cluster]: input([edsCluster("backend")]),
    [T.endpoint]: input([assignment("backend", 8080)]),
    [T.extensionConfig]: input([f]),
    [T.listener]: input([httpListener("ingress", 10000, [{ ecds: "f1" }])]),
    [T.route]: input([routeConfig("ingress", "backend")]),
  });

describe("simulated node speaking delta xDS", () => {
  let h: Harness;
  let delta: SimNode;
  let sotw: SimNode;

  beforeAll(async () => {
    h = await startHarness();
    h.cache.setDefaultSnapshot(snapshot(filter("f1@good")));
    delta = new SimNode({ id: "delta", xdsAddress: `127.0.0.1:${h.port}`, xdsApi: "delta", random: () => 0 });
    sotw = new SimNode({ id: "sotw", xdsAddress: `127.0.0.1:${h.port}` });
    await Promise.all([delta.start(), sotw.start()]);
    await waitFor("LIVE", () => delta.serverState === "LIVE" && sotw.serverState === "LIVE");
  });
  afterAll(async () => {
    await Promise.all([delta.stop(), sotw.stop()]);
    await h.close();
  });

  it("goes LIVE over DeltaAggregatedResources with the versions a state-of-the-world node reports", async () => {
    expect(delta.xdsApi).toBe("delta");
    await waitFor("ACKed", () => Object.values(delta.versions()).every((v) => v !== "") && Object.values(sotw.versions()).every((v) => v !== ""));
    expect(delta.versions()).toEqual(sotw.versions());
    const protocols = Object.fromEntries(h.xds.streamStatuses().map((s) => [s.node?.id, s.protocol]));
    expect(protocols).toEqual({ delta: "delta", sotw: "sotw" });
    // Envoy's delta requests: CDS and LDS with the legacy wildcard, the others by name.
    const firsts = delta.requests().filter((r) => r.responseNonce === "");
    expect(firsts.map((r) => [r.typeUrl, r.subscribe])).toEqual([
      [T.cluster, []],
      [T.endpoint, ["backend"]],
      [T.listener, []],
      [T.extensionConfig, ["f1"]],
      [T.route, ["ingress"]],
    ]);
    expect(delta.plugins().map((p) => p.name)).toEqual(["f1@good"]);
  });

  it("NACKs a bad filter once, keeps running the old one, then takes the rollback", async () => {
    const responses: number[] = [];
    const off = delta.events.on((e) => {
      if (e.kind === "response") responses.push(e.resources);
    });
    h.cache.setDefaultSnapshot(snapshot(filter("f1@bad", false)));
    await waitFor("NACK recorded", () => h.xds.nacks({ nodeId: "delta" }).length === 1);
    expect(h.xds.nacks({ nodeId: "delta" })[0]).toMatchObject({ typeUrl: T.extensionConfig, resourceNames: ["f1"] });
    expect(delta.plugins().map((p) => p.name)).toEqual(["f1@good"]);
    h.cache.setDefaultSnapshot(snapshot(filter("f1@next")));
    await waitFor("rolled forward", () => delta.plugins().some((p) => p.name === "f1@next"));
    off();
    // Each push carried the one ECDS resource that changed.
    expect(responses).toEqual([1, 1]);
    expect(h.xds.nacks({ nodeId: "delta" })).toHaveLength(1);
  });

  it("reconnects with initial_resource_versions and is sent nothing it already holds", async () => {
    const before = delta.requests().length;
    let responses = 0;
    const off = delta.events.on((e) => {
      if (e.kind === "response") responses++;
    });
    h.xds.closeAllStreams();
    await waitFor("reconnected", () => delta.requests().slice(before).filter((r) => r.stream === 2).length === 5);
    const again = delta.requests().filter((r) => r.stream === 2);
    expect(again.find((r) => r.typeUrl === T.extensionConfig)?.initialVersions).toEqual({ f1: h.cache.getDefaultSnapshot()!.resource(T.extensionConfig, "f1")!.version });
    await waitFor("server sees the node again", () => h.xds.streamStatuses().some((s) => s.node?.id === "delta" && s.types.length === 5));
    await new Promise((r) => setTimeout(r, 200));
    off();
    expect(responses).toBe(0);
  });
});
