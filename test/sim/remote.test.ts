/**
 * Remote wasm code in a listener (LDS), where Envoy's RemoteAsyncDataProvider
 * registers the fetch with the new listener's init manager and the listener
 * waits for it (docs/ENVOY.md "What Envoy does when a module is bad" and "Remote code
 * cache"): the update is ACKed, the module fetched through the named cluster
 * and checked against sha256; a bad hash is retried, then the filter fails
 * closed (503 wasm_fail_stream) or open, with no NACK. The same sha256 in
 * progress or negatively cached is ACKed too (the plugin has no VM
 * meanwhile and the new listener fetches again), never NACKed. A cache hit
 * loads synchronously, and the VM key made before the fetch lets a new
 * module with the same vm_id keep running the old VM.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimNode } from "../../src/sim";
import {
  httpListener,
  type ModuleHttpServer,
  moduleBytes,
  type Res,
  routeConfig,
  sha256Hex,
  staticCluster,
  startModuleHttpServer,
  TYPE_URLS,
  wasmAny,
  type WasmOptions,
} from "../helpers/xds-resources";
import { RawAdsServer, type Recorded } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;
const GOOD = moduleBytes("good_http");
const TRAP = moduleBytes("trap_first_request");
const GOOD_SHA = sha256Hex(GOOD);
const TRAP_SHA = sha256Hex(TRAP);
const ON_HEADER = moduleBytes("trap_on_header");
const NTH = moduleBytes("trap_nth_request");
// Any module not fetched before; this one only starts a root context in an HTTP chain.
const NET = moduleBytes("good_network");
const NET_SHA = sha256Hex(NET);

describe("remote wasm code in a listener", () => {
  let server: RawAdsServer;
  let modules: ModuleHttpServer;
  let node: SimNode;
  let version = 1;

  const uri = (path: string) => `http://modules.test:${modules.port}${path}`;
  /** The ingress listener (or another) with one inline wasm filter whose code is remote. */
  const listener = (o: Omit<WasmOptions, "code">, path: string, sha256: string, retries = 0, name = "ingress", port = 10000): Res =>
    httpListener(name, port, [{ name: "guard", inline: wasmAny("http", { ...o, code: { remote: { uri: uri(path), sha256, retries, backoffMs: 5 } } }) }]);
  /** Pushes an LDS version and returns the node's answer to it. */
  const push = async (...listeners: Res[]): Promise<Recorded> => {
    const nonce = server.respond(T.listener, `l${++version}`, listeners.map((l) => l.any));
    return server.next((r) => r.req.type_url === T.listener && r.req.response_nonce === nonce);
  };
  /** The serving plugin with this name, if any. */
  const plugin = (name: string) => node.plugins().find((p) => p.name === name);

  beforeAll(async () => {
    modules = await startModuleHttpServer();
    modules.serve("/good.wasm", GOOD);
    modules.serve("/trap.wasm", TRAP);
    server = await RawAdsServer.start();
    server.set(T.cluster, "c1", [staticCluster("backend", 8080), staticCluster("wasmxds_modules", modules.port)]);
    server.set(T.listener, "l1", [listener({ plugin: "good@1", rootId: "good_http", vmId: "same" }, "/good.wasm", GOOD_SHA)]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend"), routeConfig("second", "backend")]);
    node = new SimNode({ id: "fetcher", xdsAddress: server.address, adminPort: 0 });
    await node.start();
  });

  afterAll(async () => {
    await node.stop();
    await server.close();
    await modules.close();
  });

  it("ACKs, fetches through the module cluster, warms the listener until the code is in, then runs it", async () => {
    const ack = await server.next((r) => r.req.type_url === T.listener && r.req.version_info === "l1");
    expect(ack.req.error_detail).toBeNull();
    await waitFor("LIVE", () => node.serverState === "LIVE");
    expect(modules.hits.get("/good.wasm")).toBe(1);
    expect(node.sendHttp()?.upstreamHeaders).toContainEqual(["x-wasmxds", "add_header"]);
    expect(node.stats.toRecord()).toMatchObject({
      "wasm.remote_load_cache_misses": 1,
      "wasm.remote_load_fetch_successes": 1,
      "wasm.remote_load_fetch_failures": 0,
      "wasm.remote_load_cache_entries": 1,
    });
  });

  it("with a wrong sha256: ACKs, retries, then fails closed with 503 wasm_fail_stream and no NACK", async () => {
    const answer = await push(listener({ plugin: "bad@1", rootId: "good_http", vmId: "bad" }, "/good.wasm", TRAP_SHA, 1));
    expect(answer.req.error_detail).toBeNull();
    await waitFor("the failed fetch", () => plugin("bad@1") !== undefined);
    expect(modules.hits.get("/good.wasm")).toBe(3); // the first fetch, then one attempt and one retry
    expect(plugin("bad@1")?.failedToLoad).toBe(true);
    expect(node.sendHttp()).toMatchObject({ status: 503, details: "wasm_fail_stream" });
    expect(node.stats.get("wasm.remote_load_fetch_failures")).toBe(1);
    expect(node.stats.get("http.ingress.downstream_rq_5xx")).toBe(1);
    expect(node.nacks()).toEqual([]);
  });

  it("re-pushed within 10 s, the failed sha256 is a negative cache hit: ACKed, fetched again by the new listener, no NACK", async () => {
    const answer = await push(listener({ plugin: "bad@2", rootId: "good_http", vmId: "bad" }, "/good.wasm", TRAP_SHA));
    expect(answer.req.error_detail).toBeNull();
    expect(node.stats.get("wasm.remote_load_cache_negative_hits")).toBe(1);
    await waitFor("the second failed fetch", () => plugin("bad@2") !== undefined);
    expect(modules.hits.get("/good.wasm")).toBe(4);
    expect(node.sendHttp()).toMatchObject({ status: 503, details: "wasm_fail_stream" });
    expect(node.nacks()).toEqual([]);
  });

  it("fails open with FAIL_OPEN: the filter is skipped", async () => {
    await push(listener({ plugin: "open@1", rootId: "good_http", vmId: "open", failurePolicy: "FAIL_OPEN" }, "/missing.wasm", "0".repeat(64)));
    await waitFor("the failed fetch", () => plugin("open@1") !== undefined);
    const res = node.sendHttp({}, "ingress");
    expect(res?.status).toBe(200);
    expect(res?.upstreamHeaders?.some(([k]) => k === "x-wasmxds")).toBe(false);
  });

  it("loads a cached sha256 synchronously (cache hit, no fetch)", async () => {
    const hits = node.stats.get("wasm.remote_load_cache_hits") ?? 0;
    const answer = await push(listener({ plugin: "good@2", rootId: "good_http", vmId: "hit" }, "/good.wasm", GOOD_SHA));
    expect(answer.req.error_detail).toBeNull();
    expect(plugin("good@2")).toBeDefined();
    expect(node.stats.get("wasm.remote_load_cache_hits")).toBe(hits + 1);
    expect(modules.hits.get("/good.wasm")).toBe(4);
  });

  it("keeps running the old VM when a new remote module reuses vm_id and vm configuration (docs/ENVOY.md VM identity)", async () => {
    modules.serve("/on-header.wasm", ON_HEADER);
    modules.serve("/nth.wasm", NTH);
    // A cache miss is keyed with empty code: vm_id "shared" + no vm configuration.
    await push(listener({ plugin: "hdr@1", rootId: "trap_on_header", vmId: "shared" }, "/on-header.wasm", sha256Hex(ON_HEADER)));
    await waitFor("hdr@1", () => plugin("hdr@1") !== undefined);
    expect(plugin("hdr@1")?.runningCodeSha256).toBe(sha256Hex(ON_HEADER));
    // Another module under the same vm_id: a miss, same key, and hdr@1 still holds that base VM while the listener warms.
    await push(listener({ plugin: "nth@1", rootId: "trap_on_header", vmId: "shared" }, "/nth.wasm", sha256Hex(NTH)));
    await waitFor("nth@1", () => plugin("nth@1") !== undefined);
    expect(modules.hits.get("/nth.wasm")).toBe(1);
    expect(plugin("nth@1")?.runningCodeSha256).toBe(sha256Hex(ON_HEADER));
    expect(node.sendHttp({}, "ingress")?.upstreamHeaders).toContainEqual(["x-checked", "1"]);
    // With the module's hash in vm_id (what wasmxds does) the new code runs.
    await push(listener({ plugin: "nth@2", rootId: "trap_nth_request", vmId: `shared@${sha256Hex(NTH).slice(0, 8)}` }, "/nth.wasm", sha256Hex(NTH)));
    expect(plugin("nth@2")?.runningCodeSha256).toBe(sha256Hex(NTH));
  });
  it("the same sha256 in progress for a second listener is ACKed and fetched again for it, not NACKed", async () => {
    modules.serve("/net.wasm", NET);
    const misses = node.stats.get("wasm.remote_load_cache_misses") ?? 0;
    const successes = node.stats.get("wasm.remote_load_fetch_successes") ?? 0;
    const answer = await push(
      listener({ plugin: "net@1", rootId: "good_network", vmId: "net" }, "/net.wasm", NET_SHA),
      listener({ plugin: "net-second@1", rootId: "good_network", vmId: "net" }, "/net.wasm", NET_SHA, 0, "second", 10001),
    );
    expect(answer.req.error_detail).toBeNull();
    expect(node.stats.get("wasm.remote_load_cache_misses")).toBe(misses + 2);
    await waitFor("both listeners serving", () => plugin("net@1")?.runningCodeSha256 === NET_SHA && plugin("net-second@1")?.runningCodeSha256 === NET_SHA);
    expect(modules.hits.get("/net.wasm")).toBe(2);
    expect(node.stats.get("wasm.remote_load_fetch_successes")).toBe(successes + 2);
    expect(node.nacks()).toEqual([]);
  });
});
