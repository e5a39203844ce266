/**
 * Delta NACKs go into the same per-node, per-type records and events as
 * state-of-the-world ones (what health and rollback read), a NACKed
 * resource is not resent until it changes, and a delta peer meets the
 * same limits as a state-of-the-world one.
 */
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import type { XdsEvent } from "../../src/xds/events";
import { AdsClient } from "../helpers/ads-client";
import { DeltaClient, versionsOf } from "../helpers/delta-client";
import { basicInput, extensionConfig, listener } from "../helpers/snapshots";
import { type Harness, type HarnessOptions, startHarness } from "../helpers/xds-harness";

const T = TYPE_URLS;
let h: Harness | undefined;
const clients: Array<{ cancel(): void }> = [];
async function start(opts: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness(opts);
  return h;
}
function connect(id = "node-1"): DeltaClient {
  const c = new DeltaClient(h!.port, { id });
  clients.push(c);
  return c;
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.cancel();
  await h?.close();
  h = undefined;
});

function filters(one: string, two = "x-two") {
  return {
    ...basicInput(),
    [T.extensionConfig]: [extensionConfig("f1", one), extensionConfig("f2", two)],
    [T.listener]: [listener("ingress", 10000, "ingress", ["f1", "f2"])],
  };
}

describe("delta NACKs", () => {
  it("records a NACK per node and type once, does not resend it, and sends the next version", async () => {
    const x = await start();
    const events: XdsEvent[] = [];
    x.xds.events.on((e) => events.push(e));
    x.cache.setDefaultSnapshot(Snapshot.create(filters("x-one")));
    const c = connect();
    c.request({ typeUrl: T.extensionConfig, subscribe: ["f1", "f2"] });
    const good = await c.next(T.extensionConfig);
    c.ack(good);
    await expect.poll(() => x.xds.streamStatuses()[0]!.types[0]!.acked?.version).toBe(good.system_version_info);
    const bad = Snapshot.create(filters("x-bad"));
    x.cache.setDefaultSnapshot(bad);
    const rejected = await c.next(T.extensionConfig);
    expect(Object.keys(versionsOf(rejected))).toEqual(["f1"]);
    c.nack(rejected, "Unable to create Wasm HTTP filter f1@deadbeef");
    c.nack(rejected, "Unable to create Wasm HTTP filter f1@deadbeef");
    await expect.poll(() => x.xds.nacks().length).toBe(1);
    expect(x.xds.nacks()[0]).toMatchObject({
      nodeId: "node-1",
      typeUrl: T.extensionConfig,
      rejectedVersion: bad.type(T.extensionConfig).version,
      keptVersion: good.system_version_info,
      nonce: rejected.nonce,
      message: "Unable to create Wasm HTTP filter f1@deadbeef",
      code: 13,
      resourceNames: ["f1"],
    });
    expect(x.xds.streamStatuses()[0]!.types[0]!.nack?.nonce).toBe(rejected.nonce);
    // The rejected resource is not sent again: not on a publish of the same content, not on a subscription change.
    x.cache.setDefaultSnapshot(Snapshot.create(filters("x-bad")));
    c.request({ typeUrl: T.extensionConfig, subscribe: ["ghost"] });
    expect(await c.drain(300)).toEqual([]);
    // The rollback (a different version) is sent.
    const back = Snapshot.create(filters("x-one"));
    x.cache.setDefaultSnapshot(back);
    const restored = await c.next(T.extensionConfig);
    expect(versionsOf(restored)).toEqual({ f1: back.resource(T.extensionConfig, "f1")!.version });
    c.ack(restored);
    await expect.poll(() => events.filter((e) => e.kind === "ack").map((e) => e.kind === "ack" && [e.version, e.resourceNames])).toEqual([
      [good.system_version_info, ["f1", "f2"]],
      [back.type(T.extensionConfig).version, ["f1"]],
    ]);
    expect(events.filter((e) => e.kind === "push").map((e) => e.kind === "push" && e.resourceNames)).toEqual([["f1", "f2"], ["f1"], ["f1"]]);
  });

  it("records a late NACK of an earlier nonce", async () => {
    const x = await start();
    x.cache.setDefaultSnapshot(Snapshot.create(filters("x-one")));
    const c = connect();
    c.request({ typeUrl: T.extensionConfig, subscribe: ["f1"] });
    const first = await c.next(T.extensionConfig);
    x.cache.setDefaultSnapshot(Snapshot.create(filters("x-next")));
    await c.next(T.extensionConfig);
    c.nack(first, "late");
    await expect.poll(() => x.xds.nacks().map((n) => [n.nonce, n.message])).toEqual([[first.nonce, "late"]]);
  });
});

describe("delta limits (the same as state of the world)", () => {
  it("refuses a first request without node", async () => {
    await start();
    const c = connect();
    c.request({ typeUrl: T.cluster, node: null });
    expect(await c.ended).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: "the first DeltaDiscoveryRequest on a stream must carry node with a non-empty id" });
  });

  it("refuses too many names in one request and in the subscription they add up to", async () => {
    await start({ limits: { maxResourceNames: 5 } });
    const one = connect("one");
    one.request({ typeUrl: T.endpoint, subscribe: ["a", "b", "c", "d", "e", "f"] });
    expect(await one.ended).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: `${T.endpoint}: resource_names_subscribe has 6 entries, the limit is 5` });
    const many = connect("many");
    many.request({ typeUrl: T.endpoint, subscribe: ["a", "b", "c"] });
    many.request({ typeUrl: T.endpoint, subscribe: ["d", "e", "f"] });
    expect(await many.ended).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: `${T.endpoint}: the subscription has 6 entries, the limit is 5` });
  });

  it("refuses long names, long initial versions and oversized initial_resource_versions", async () => {
    await start({ limits: { maxResourceNames: 2, maxNameLength: 10, maxVersionLength: 8 } });
    const name = connect("name");
    name.request({ typeUrl: T.endpoint, unsubscribe: ["x".repeat(11)] });
    expect(await name.ended).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: `${T.endpoint}: a resource name in resource_names_unsubscribe is 11 characters long, the limit is 10` });
    const version = connect("version");
    version.request({ typeUrl: T.cluster, initialVersions: { a: "v".repeat(9) } });
    expect(await version.ended).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: `${T.cluster}: a version in initial_resource_versions is 9 characters long, the limit is 8` });
    const map = connect("map");
    map.request({ typeUrl: T.cluster, initialVersions: { a: "1", b: "2", c: "3" } });
    expect(await map.ended).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: `${T.cluster}: initial_resource_versions has 3 entries, the limit is 2` });
  });

  it("ignores a type the server does not serve and keeps serving the others", async () => {
    const x = await start();
    x.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const c = connect();
    c.request({ typeUrl: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", subscribe: ["s"] });
    c.request({ typeUrl: T.cluster });
    expect((await c.next()).type_url).toBe(T.cluster);
    expect(x.xds.streamStatuses()[0]!.ignoredTypes).toEqual(["type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"]);
  });

  it("shows which protocol each stream speaks", async () => {
    const x = await start();
    x.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
    const delta = connect("delta-node");
    delta.request({ typeUrl: T.cluster });
    await delta.next(T.cluster);
    const sotw = new AdsClient(x.port, { id: "sotw-node" });
    clients.push(sotw);
    sotw.request({ typeUrl: T.cluster });
    await sotw.next(T.cluster);
    expect(Object.fromEntries(x.xds.streamStatuses().map((s) => [s.node?.id, s.protocol]))).toEqual({ "delta-node": "delta", "sotw-node": "sotw" });
  });
});
