import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient, resourcesOf } from "../helpers/ads-client";
import { type Harness, startHarness } from "../helpers/xds-harness";
import { basicInput, endpoints, extensionConfig } from "../helpers/snapshots";

const T = TYPE_URLS;
let h: Harness;
const clients: AdsClient[] = [];
function connect(id = "node-1", extra: Partial<{ cluster: string }> = {}): AdsClient {
  const c = new AdsClient(h.port, { id, ...extra });
  clients.push(c);
  return c;
}

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.cancel();
  await h.close();
});

/** Subscribes like Envoy: CDS + LDS wildcard, then EDS/RDS/ECDS by name; ACKs each. */
async function subscribeAll(c: AdsClient) {
  c.request({ typeUrl: T.cluster });
  c.request({ typeUrl: T.listener });
  const cds = await c.next(T.cluster);
  c.ack(cds);
  c.request({ typeUrl: T.endpoint, names: ["backend"] });
  const lds = await c.next(T.listener);
  c.ack(lds);
  c.request({ typeUrl: T.extensionConfig, names: ["f1"] });
  c.request({ typeUrl: T.route, names: ["ingress"] });
  const eds = await c.next(T.endpoint);
  c.ack(eds, ["backend"]);
  const ecds = await c.next(T.extensionConfig);
  c.ack(ecds, ["f1"]);
  const rds = await c.next(T.route);
  c.ack(rds, ["ingress"]);
  // Wait until the server has seen every ACK, as a test of later pushes needs.
  await expect.poll(() => h.xds.streamStatuses().find((s) => s.node?.id === c.node.id)?.types.filter((t) => t.acked).length).toBe(5);
  return { cds, lds, eds, ecds, rds };
}

describe("ADS state of the world", () => {
  it("serves every type to a node subscribing like Envoy", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect();
    const r = await subscribeAll(c);
    expect(resourcesOf(r.cds).map((x) => x.name)).toEqual(["backend"]);
    expect(resourcesOf(r.lds).map((x) => x.name)).toEqual(["ingress"]);
    expect(resourcesOf(r.eds)[0]!.message).toMatchObject({ cluster_name: "backend" });
    expect(resourcesOf(r.ecds).map((x) => x.name)).toEqual(["f1"]);
    expect(resourcesOf(r.rds).map((x) => x.name)).toEqual(["ingress"]);
    await expect.poll(() => h.xds.streamStatuses()[0]?.types.filter((t) => t.acked).length).toBe(5);
  });

  it("gives every response a fresh nonce and versions per type that are content hashes", async () => {
    const snap = Snapshot.create(basicInput());
    h.cache.setDefaultSnapshot(snap);
    const c = connect();
    const r = await subscribeAll(c);
    const nonces = [r.cds, r.lds, r.eds, r.ecds, r.rds].map((x) => x.nonce);
    expect(new Set(nonces).size).toBe(5);
    expect(r.cds.version_info).toBe(snap.type(T.cluster).version);
    // Same content => same versions, even in a new snapshot object.
    const again = Snapshot.create(basicInput());
    expect(again.type(T.cluster).version).toBe(snap.type(T.cluster).version);
    expect(again.resource(T.cluster, "backend")!.version).toBe(snap.resource(T.cluster, "backend")!.version);
  });

  it("pushes only the changed type, in CDS, EDS, ECDS, LDS, RDS order", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect();
    await subscribeAll(c);
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput({ header: "x-two", endpointPort: 9090, listenerPort: 10002 })));
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await c.next();
      order.push(r.type_url);
      c.ack(r, r.type_url === T.listener ? undefined : resourcesOf(r).map((x) => x.name));
    }
    expect(order).toEqual([T.endpoint, T.extensionConfig, T.listener]);
    expect((await c.drain()).map((r) => r.type_url)).toEqual([]);
  });

  it("ignores a request with a stale nonce", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect();
    c.request({ typeUrl: T.extensionConfig, names: ["f1"] });
    const first = await c.next(T.extensionConfig);
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput({ header: "x-two" })));
    const second = await c.next(T.extensionConfig);
    // A request answering the first response (stale) that also changes the
    // subscription must be ignored entirely: no response.
    c.request({ typeUrl: T.extensionConfig, names: ["f1", "other"], versionInfo: first.version_info, responseNonce: first.nonce });
    expect(await c.drain(300)).toEqual([]);
    // The current nonce is honoured.
    c.ack(second, ["f1"]);
    await expect.poll(() => h.xds.streamStatuses()[0]?.types[0]?.acked?.version).toBe(second.version_info);
  });

  it("records a NACK and does not resend the rejected version (go-control-plane #962)", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect();
    await subscribeAll(c);
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput({ header: "bad" })));
    const bad = await c.next(T.extensionConfig);
    const good = h.xds.streamStatuses()[0]!.types.find((t) => t.typeUrl === T.extensionConfig)!.acked!.version;
    c.nack(bad, good, "Unable to create Wasm plugin f1@deadbeef", ["f1"]);
    expect(await c.drain(400)).toEqual([]);
    await expect.poll(() => h.xds.nacks().length).toBe(1);
    const nack = h.xds.nacks()[0]!;
    expect(nack).toMatchObject({
      nodeId: "node-1",
      typeUrl: T.extensionConfig,
      rejectedVersion: bad.version_info,
      keptVersion: good,
      nonce: bad.nonce,
      message: "Unable to create Wasm plugin f1@deadbeef",
      code: 13,
    });
    expect(nack.at).toBeGreaterThan(0);
    // Re-publishing the same content does not resend it either.
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput({ header: "bad" })));
    expect(await c.drain(300)).toEqual([]);
    // A later, different snapshot is sent normally.
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput({ header: "fixed" })));
    const fixed = await c.next(T.extensionConfig);
    expect(fixed.version_info).not.toBe(bad.version_info);
    expect(resourcesOf(fixed)[0]!.message).toMatchObject({ name: "f1" });
  });

  it("handles subscription changes and resources that do not exist", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect();
    c.request({ typeUrl: T.extensionConfig, names: ["missing"] });
    const empty = await c.next(T.extensionConfig);
    expect(empty.resources).toEqual([]);
    c.request({ typeUrl: T.extensionConfig, names: ["missing", "f1"], versionInfo: empty.version_info, responseNonce: empty.nonce });
    const withF1 = await c.next(T.extensionConfig);
    expect(resourcesOf(withF1).map((x) => x.name)).toEqual(["f1"]);
    // The missing resource appears later: pushed.
    const input = basicInput();
    h.cache.setDefaultSnapshot(
      Snapshot.create({ ...input, [T.extensionConfig]: [...input[T.extensionConfig]!, extensionConfig("missing", "x")] }),
    );
    const both = await c.next(T.extensionConfig);
    expect(resourcesOf(both).map((x) => x.name).sort()).toEqual(["f1", "missing"]);
    // A change to a resource the node does not subscribe to is not pushed.
    c.ack(both, ["missing", "f1"]);
    c.request({ typeUrl: T.extensionConfig, names: ["f1"], versionInfo: both.version_info, responseNonce: both.nonce });
    const onlyF1 = await c.next(T.extensionConfig);
    c.ack(onlyF1, ["f1"]);
    h.cache.setDefaultSnapshot(
      Snapshot.create({ ...input, [T.extensionConfig]: [...input[T.extensionConfig]!, extensionConfig("missing", "changed")] }),
    );
    expect(await c.drain(300)).toEqual([]);
  });

  it("sends a wildcard type without a removed resource", async () => {
    const input = basicInput();
    h.cache.setDefaultSnapshot(Snapshot.create(input));
    const c = connect();
    c.request({ typeUrl: T.cluster });
    const cds = await c.next(T.cluster);
    c.ack(cds);
    h.cache.setDefaultSnapshot(Snapshot.create({ ...input, [T.listener]: [], [T.route]: [], [T.cluster]: [], [T.endpoint]: [] }));
    const after = await c.next(T.cluster);
    expect(after.resources).toEqual([]);
  });

  it("does not resend to a reconnecting node that holds the current version, and updates one that is behind", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const a = connect();
    a.request({ typeUrl: T.cluster });
    const cds = await a.next(T.cluster);
    a.ack(cds);
    a.cancel();
    const b = connect();
    b.request({ typeUrl: T.cluster, versionInfo: cds.version_info });
    expect(await b.drain(300)).toEqual([]);
    const c = connect();
    c.request({ typeUrl: T.cluster, versionInfo: "old-version" });
    expect((await c.next(T.cluster)).version_info).toBe(cds.version_info);
  });

  it("does not resend to a reconnecting node whose group's snapshot comes after its first request", async () => {
    // A node reconnecting before its group has a snapshot (a worker's stream not yet placed, a group not yet built)
    // still holds what it said: once the snapshot comes, the same version is not sent again.
    const snapshot = Snapshot.create(basicInput());
    const held = snapshot.type(T.cluster).response("*").version;
    const b = connect();
    b.request({ typeUrl: T.cluster, versionInfo: held });
    expect(await b.drain(100)).toEqual([]);
    h.cache.setDefaultSnapshot(snapshot);
    expect(await b.drain(300)).toEqual([]);
    await expect.poll(() => h.xds.streamStatuses()[0]?.types[0]?.acked?.version).toBe(held);
  });

  it("keeps per-group snapshots with a pluggable node-group function", async () => {
    await h.close();
    h = await startHarness({ groupOf: (n) => n.cluster });
    h.cache.setSnapshot("edge", Snapshot.create(basicInput({ endpointPort: 1111 })));
    h.cache.setSnapshot("core", Snapshot.create(basicInput({ endpointPort: 2222 })));
    const e = connect("e1", { cluster: "edge" });
    const k = connect("k1", { cluster: "core" });
    for (const c of [e, k]) c.request({ typeUrl: T.endpoint, names: ["backend"] });
    const port = (r: Awaited<ReturnType<AdsClient["next"]>>) =>
      JSON.stringify(resourcesOf(r)[0]!.message).match(/"port_value":(\d+)/)![1];
    expect(port(await e.next(T.endpoint))).toBe("1111");
    expect(port(await k.next(T.endpoint))).toBe("2222");
  });

  it("refuses an inconsistent snapshot and keeps serving the previous one", async () => {
    const good = Snapshot.create(basicInput());
    h.cache.setDefaultSnapshot(good);
    const input = basicInput();
    const broken = Snapshot.create({ ...input, [T.route]: [], [T.extensionConfig]: [] });
    expect(() => h.cache.setDefaultSnapshot(broken)).toThrowError(
      /LDS "ingress" .*rds.route_config_name refers to RDS "ingress", which is not in the snapshot/,
    );
    expect(() => h.cache.setDefaultSnapshot(broken)).toThrowError(/refers to ECDS "f1"/);
    expect(h.cache.getDefaultSnapshot()).toBe(good);
  });

  it("rejects a first request without node, without affecting other streams", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const ok = connect("ok");
    ok.request({ typeUrl: T.cluster });
    await ok.next(T.cluster);
    const bad = connect("bad");
    bad.request({ typeUrl: T.cluster, node: null });
    const status = await bad.ended;
    expect(status.code).toBe(3);
    expect(status.details).toMatch(/first DiscoveryRequest on a stream must carry node/);
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput({ endpointPort: 1 })));
    ok.request({ typeUrl: T.endpoint, names: ["backend"] });
    expect((await ok.next(T.endpoint)).resources.length).toBe(1);
  });

  it("ignores unknown type URLs and refuses oversized name lists with a clear status", async () => {
    await h.close();
    h = await startHarness({ limits: { maxResourceNames: 5, maxNameLength: 100 } });
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect();
    c.request({ typeUrl: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", names: ["s"] });
    c.request({ typeUrl: T.cluster });
    expect((await c.next()).type_url).toBe(T.cluster);
    c.request({ typeUrl: T.endpoint, names: ["a", "b", "c", "d", "e", "f"] });
    const status = await c.ended;
    expect(status.code).toBe(8);
    expect(status.details).toMatch(/resource_names has 6 entries, the limit is 5/);
  });

  it("encodes each resource once per version, not once per stream", async () => {
    const snap = Snapshot.create(basicInput());
    h.cache.setDefaultSnapshot(snap);
    const type = snap.type(T.cluster);
    const a = type.response("*");
    const b = type.response("*");
    expect(b).toBe(a);
    expect(b.body).toBe(a.body);
    const next = Snapshot.create(basicInput({ header: "other" }), snap);
    expect(next.resource(T.cluster, "backend")).toBe(snap.resource(T.cluster, "backend"));
  });

  it("serves a node that subscribes before any snapshot exists once one is published", async () => {
    const c = connect();
    c.request({ typeUrl: T.cluster });
    expect(await c.drain(200)).toEqual([]);
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    expect(resourcesOf(await c.next(T.cluster))[0]!.name).toBe("backend");
  });

  it("exposes connected nodes and forgets them on disconnect", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect("n-status", { cluster: "edge" });
    c.request({ typeUrl: T.cluster });
    await c.next(T.cluster);
    expect(h.xds.streamStatuses()[0]!.node).toMatchObject({ id: "n-status", cluster: "edge" });
    c.close();
    await expect.poll(() => h.xds.streamStatuses().length).toBe(0);
  });
});

describe("endpoints change", () => {
  it("pushes the new ClusterLoadAssignment only", async () => {
    const input = basicInput();
    h.cache.setDefaultSnapshot(Snapshot.create(input));
    const c = connect();
    await subscribeAll(c);
    h.cache.setDefaultSnapshot(Snapshot.create({ ...input, [T.endpoint]: [endpoints("backend", 7777)] }));
    const eds = await c.next();
    expect(eds.type_url).toBe(T.endpoint);
    expect(JSON.stringify(resourcesOf(eds)[0]!.message)).toContain("7777");
  });
});

describe("regrouping", () => {
  it("moves a live stream to its new group and pushes only what differs", async () => {
    const canaries = new Set<string>();
    await h.close();
    h = await startHarness({ groupOf: (n) => (canaries.has(n.id) ? "canary" : "stable") });
    h.cache.setSnapshot("stable", Snapshot.create(basicInput({ header: "v1" })));
    h.cache.setSnapshot("canary", Snapshot.create(basicInput({ header: "v2" })));
    const c = connect("n1");
    const other = connect("n2");
    const first = await subscribeAll(c);
    await subscribeAll(other);
    canaries.add("n1");
    h.xds.regroup((n) => n.id === "n1");
    const pushed = await c.next(undefined, 3000);
    expect(pushed.type_url).toBe(T.extensionConfig);
    expect(pushed.version_info).not.toBe(first.ecds.version_info);
    expect(await c.drain(200)).toEqual([]);
    expect(await other.drain(100)).toEqual([]);
    expect(h.xds.streamStatuses().find((s) => s.node?.id === "n1")?.group).toBe("canary");
  });
});
