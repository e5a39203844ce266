/**
 * DeltaAggregatedResources against a raw gRPC client on the Envoy protos:
 * every type, per-resource content versions, subscribe/unsubscribe, both
 * wildcards, removals, reconnect with initial_resource_versions, ordering.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { DeltaClient, deltaResourcesOf, versionsOf } from "../helpers/delta-client";
import { basicInput, cluster, endpoints, extensionConfig, listener, route } from "../helpers/snapshots";
import { type Harness, startHarness } from "../helpers/xds-harness";
import { TEST_WORKERS } from "../helpers/app";

const T = TYPE_URLS;
let h: Harness;
const clients: DeltaClient[] = [];
function connect(id = "node-1"): DeltaClient {
  const c = new DeltaClient(h.port, { id });
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

/** Two ECDS filters, so that a change to one can be told from a change to the type. */
function twoFilters(one = "x-one", two = "x-two") {
  return {
    ...basicInput(),
    [T.extensionConfig]: [extensionConfig("f1", one), extensionConfig("f2", two)],
    [T.listener]: [listener("ingress", 10000, "ingress", ["f1", "f2"])],
  };
}

/** Subscribes like Envoy with api_type DELTA_GRPC: CDS and LDS legacy wildcard, then EDS, ECDS, RDS by name; ACKs each. */
async function subscribeAll(c: DeltaClient, ecds = ["f1"]) {
  c.request({ typeUrl: T.cluster });
  const cds = await c.next(T.cluster);
  c.request({ typeUrl: T.endpoint, subscribe: ["backend"] });
  c.ack(cds);
  const eds = await c.next(T.endpoint);
  c.ack(eds);
  c.request({ typeUrl: T.listener });
  const lds = await c.next(T.listener);
  c.request({ typeUrl: T.extensionConfig, subscribe: ecds });
  c.request({ typeUrl: T.route, subscribe: ["ingress"] });
  c.ack(lds);
  const xc = await c.next(T.extensionConfig);
  c.ack(xc);
  const rds = await c.next(T.route);
  c.ack(rds);
  await expect.poll(() => h.xds.streamStatuses().find((s) => s.node?.id === c.node.id)?.types.filter((t) => t.acked).length).toBe(5);
  return { cds, eds, lds, ecds: xc, rds };
}

describe("delta ADS", () => {
  it("serves every type with per-resource content versions and the state-of-the-world version as system_version_info", async () => {
    const snap = Snapshot.create(basicInput());
    h.cache.setDefaultSnapshot(snap);
    const r = await subscribeAll(connect());
    for (const [typeUrl, resp, name] of [
      [T.cluster, r.cds, "backend"],
      [T.endpoint, r.eds, "backend"],
      [T.extensionConfig, r.ecds, "f1"],
      [T.listener, r.lds, "ingress"],
      [T.route, r.rds, "ingress"],
    ] as const) {
      expect(versionsOf(resp)).toEqual({ [name]: snap.resource(typeUrl, name)!.version });
      expect(resp.system_version_info).toBe(snap.type(typeUrl).version);
      expect(resp.removed_resources).toEqual([]);
    }
    expect(deltaResourcesOf(r.eds)[0]!.message).toMatchObject({ cluster_name: "backend" });
    expect(new Set([r.cds, r.eds, r.lds, r.ecds, r.rds].map((x) => x.nonce)).size).toBe(5);
    expect(h.xds.streamStatuses()[0]).toMatchObject({ protocol: "delta", node: { id: "node-1" } });
  });

  it("sends one resource when one filter changes, and nothing for types that did not change", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(twoFilters()));
    const c = connect();
    await subscribeAll(c, ["f1", "f2"]);
    const next = Snapshot.create(twoFilters("x-one", "x-changed"));
    h.cache.setDefaultSnapshot(next);
    const ecds = await c.next(T.extensionConfig);
    expect(versionsOf(ecds)).toEqual({ f2: next.resource(T.extensionConfig, "f2")!.version });
    expect(ecds.removed_resources).toEqual([]);
    expect(ecds.system_version_info).toBe(next.type(T.extensionConfig).version);
    c.ack(ecds);
    expect(await c.drain()).toEqual([]);
  });

  it("pushes changed types in CDS, EDS, ECDS, LDS, RDS order", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect();
    await subscribeAll(c);
    const changed = basicInput({ header: "x-two", endpointPort: 9090, listenerPort: 10002 });
    h.cache.setDefaultSnapshot(Snapshot.create({ ...changed, [T.cluster]: [{ ...cluster("backend"), message: { ...cluster("backend").message, connect_timeout: { seconds: 2 } } }], [T.route]: [route("ingress", "backend"), route("other", "backend")] }));
    // RDS is subscribed to "ingress" only, which did not change: four responses.
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await c.next()).type_url);
    expect(order).toEqual([T.cluster, T.endpoint, T.extensionConfig, T.listener]);
    expect(await c.drain()).toEqual([]);
  });

  it("sends nothing for a subscribed name that does not exist yet, then the resource once it does, and no removal for a name never sent", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect();
    await subscribeAll(c);
    const eds = h.xds.streamStatuses()[0]!.types.find((t) => t.typeUrl === T.endpoint)!;
    c.request({ typeUrl: T.endpoint, subscribe: ["later"] });
    expect(await c.drain()).toEqual([]);
    const input = basicInput();
    h.cache.setDefaultSnapshot(Snapshot.create({ ...input, [T.cluster]: [cluster("backend"), cluster("later")], [T.endpoint]: [endpoints("backend", 8080), endpoints("later", 7070)] }));
    const cds = await c.next(T.cluster);
    expect(Object.keys(versionsOf(cds))).toEqual(["later"]);
    const added = await c.next(T.endpoint);
    expect(Object.keys(versionsOf(added))).toEqual(["later"]);
    expect(added.system_version_info).not.toBe(eds.sent!.version);
    // Subscribed and unsubscribed before it ever existed: nothing to remove.
    c.request({ typeUrl: T.endpoint, subscribe: ["ghost"] });
    c.request({ typeUrl: T.endpoint, unsubscribe: ["ghost"] });
    expect(await c.drain()).toEqual([]);
  });

  it("reports removed_resources when a resource leaves the snapshot or the subscription", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(twoFilters()));
    const c = connect();
    await subscribeAll(c, ["f1", "f2"]);
    c.request({ typeUrl: T.extensionConfig, unsubscribe: ["f2"] });
    const unsub = await c.next(T.extensionConfig);
    expect(unsub.resources).toEqual([]);
    expect(unsub.removed_resources).toEqual(["f2"]);
    c.ack(unsub);
    // f1 leaves the snapshot (the listener no longer names it).
    const input = basicInput();
    h.cache.setDefaultSnapshot(Snapshot.create({ ...input, [T.extensionConfig]: [extensionConfig("f2", "x-two")], [T.listener]: [listener("ingress", 10000, "ingress", ["f2"])] }));
    const gone = await c.next(T.extensionConfig);
    expect(gone.removed_resources).toEqual(["f1"]);
    expect(gone.resources).toEqual([]);
    const lds = await c.next(T.listener);
    expect(lds.removed_resources).toEqual([]);
  });

  it("legacy wildcard: an empty first CDS/LDS request gets every resource and later ones; it is no wildcard for other types", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect();
    c.request({ typeUrl: T.cluster });
    c.request({ typeUrl: T.endpoint });
    const cds = await c.next(T.cluster);
    expect(Object.keys(versionsOf(cds))).toEqual(["backend"]);
    c.ack(cds);
    const input = basicInput();
    h.cache.setDefaultSnapshot(Snapshot.create({ ...input, [T.cluster]: [cluster("backend"), cluster("more")], [T.endpoint]: [endpoints("backend", 8080), endpoints("more", 1)] }));
    const more = await c.next(T.cluster);
    expect(Object.keys(versionsOf(more))).toEqual(["more"]);
    c.ack(more);
    // Subscribing a name keeps the legacy wildcard (Envoy keeps "*" among its names).
    c.request({ typeUrl: T.cluster, subscribe: ["extra"] });
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const removed = await c.next(T.cluster);
    expect(removed.removed_resources).toEqual(["more"]);
    expect((await c.drain()).filter((r) => r.type_url === T.endpoint)).toEqual([]);
    // Polled: with workers (WASMXDS_TEST_WORKERS) the status arrives with the worker's next report.
    await expect.poll(() => h.xds.streamStatuses()[0]!.types.find((t) => t.typeUrl === T.cluster)).toMatchObject({ wildcard: true, names: ["extra"] });
  });

  it("explicit wildcard '*' on any type, and unsubscribing '*' removes what only it selected", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(twoFilters()));
    const c = connect();
    c.request({ typeUrl: T.extensionConfig, subscribe: ["*", "f1"] });
    const all = await c.next(T.extensionConfig);
    expect(Object.keys(versionsOf(all))).toEqual(["f1", "f2"]);
    c.ack(all);
    c.request({ typeUrl: T.extensionConfig, unsubscribe: ["*"] });
    const after = await c.next(T.extensionConfig);
    expect(after.resources).toEqual([]);
    expect(after.removed_resources).toEqual(["f2"]);
    await expect.poll(() => h.xds.streamStatuses()[0]!.types[0]).toMatchObject({ wildcard: false, names: ["f1"] });
  });

  it("initial_resource_versions: a reconnecting client is sent only what it does not hold, and told what no longer exists", async () => {
    const snap = Snapshot.create(twoFilters());
    h.cache.setDefaultSnapshot(snap);
    const f1 = snap.resource(T.extensionConfig, "f1")!.version;
    // Holds both at their current versions: nothing is sent, and the node counts as ACKed.
    const same = connect("same");
    same.request({ typeUrl: T.extensionConfig, subscribe: ["f1", "f2"], initialVersions: { f1, f2: snap.resource(T.extensionConfig, "f2")!.version } });
    same.request({ typeUrl: T.cluster, initialVersions: { backend: snap.resource(T.cluster, "backend")!.version } });
    expect(await same.drain()).toEqual([]);
    await expect.poll(() => h.xds.streamStatuses().find((s) => s.node?.id === "same")?.types.map((t) => t.acked?.version)).toEqual([snap.type(T.extensionConfig).version, snap.type(T.cluster).version]);
    // Holds f1 current, f2 old, and a filter that is gone.
    const behind = connect("behind");
    behind.request({ typeUrl: T.extensionConfig, subscribe: ["f1", "f2", "gone"], initialVersions: { f1, f2: "0000", gone: "1111" } });
    const resp = await behind.next(T.extensionConfig);
    expect(versionsOf(resp)).toEqual({ f2: snap.resource(T.extensionConfig, "f2")!.version });
    expect(resp.removed_resources).toEqual(["gone"]);
    // A wildcard reconnect holding a cluster that is gone.
    const wild = connect("wild");
    wild.request({ typeUrl: T.cluster, initialVersions: { backend: snap.resource(T.cluster, "backend")!.version, old: "2222" } });
    const cds = await wild.next(T.cluster);
    expect(cds.resources).toEqual([]);
    expect(cds.removed_resources).toEqual(["old"]);
  });

  it("an ACK causes no response, and publishing the same content again sends nothing (no resend loop)", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect();
    await subscribeAll(c);
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    expect(await c.drain()).toEqual([]);
  });

  it("writes one shared response to streams that hold the same versions, and never repeats a nonce on a stream", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(twoFilters()));
    const a = connect("a");
    const b = connect("b");
    for (const c of [a, b]) c.request({ typeUrl: T.extensionConfig, subscribe: ["f1"] });
    const [ra, rb] = [await a.next(T.extensionConfig), await b.next(T.extensionConfig)];
    // One process shares the response; with workers (WASMXDS_TEST_WORKERS), each worker encodes once for its own streams,
    // and two streams placed in different turns of a worker are sent their first response apart.
    if (TEST_WORKERS === 0) expect(ra.nonce).toBe(rb.nonce);
    const nonces = [ra.nonce];
    // f1 goes and comes back: the same body as the first response, which must not come with the same nonce again.
    a.request({ typeUrl: T.extensionConfig, unsubscribe: ["f1"] });
    nonces.push((await a.next(T.extensionConfig)).nonce);
    a.request({ typeUrl: T.extensionConfig, subscribe: ["f1"] });
    const again = await a.next(T.extensionConfig);
    expect(again.resources.map((r) => r.version)).toEqual(ra.resources.map((r) => r.version));
    nonces.push(again.nonce);
    expect(new Set(nonces).size).toBe(3);
  });

  it("applies the subscription change of a request with a stale nonce", async () => {
    h.cache.setDefaultSnapshot(Snapshot.create(twoFilters()));
    const c = connect();
    c.request({ typeUrl: T.extensionConfig, subscribe: ["f1"] });
    const first = await c.next(T.extensionConfig);
    h.cache.setDefaultSnapshot(Snapshot.create(twoFilters("x-new")));
    const second = await c.next(T.extensionConfig);
    expect(second.nonce).not.toBe(first.nonce);
    // Envoy may still answer the first response while subscribing f2.
    c.ack(first, { subscribe: ["f2"] });
    const f2 = await c.next(T.extensionConfig);
    expect(Object.keys(versionsOf(f2))).toEqual(["f2"]);
    expect(h.xds.streamStatuses()[0]!.types[0]!.acked).toBeUndefined();
  });
});
