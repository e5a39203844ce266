/**
 * Remote wasm code (ENVOY-NOTES "What Envoy does when a module is bad"):
 * the update is ACKed, the module fetched through the named cluster and
 * checked against sha256; a bad hash is retried, then the filter fails
 * closed (503 wasm_fail_stream) or open, with no NACK. The node's code cache
 * answers later configs (hit, negative hit), and the VM key made before the
 * fetch lets a new module with the same vm_id keep running the old VM.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimNode } from "../../src/sim";
import {
  ecds,
  httpListener,
  type ModuleHttpServer,
  moduleBytes,
  routeConfig,
  sha256Hex,
  staticCluster,
  startModuleHttpServer,
  TYPE_URLS,
  wasmAny,
  type WasmOptions,
} from "./helpers/fixtures";
import { RawAdsServer, type Recorded } from "./helpers/raw-ads-server";
import { waitFor } from "./helpers/wait";

const T = TYPE_URLS;
const GOOD = moduleBytes("good_http");
const TRAP = moduleBytes("trap_first_request");
const GOOD_SHA = sha256Hex(GOOD);
const TRAP_SHA = sha256Hex(TRAP);
const ON_HEADER = moduleBytes("trap_on_header");
const NTH = moduleBytes("trap_nth_request");

describe("remote wasm code", () => {
  let server: RawAdsServer;
  let modules: ModuleHttpServer;
  let node: SimNode;
  let version = 1;

  const uri = (path: string) => `http://modules.test:${modules.port}${path}`;
  const remote = (o: Omit<WasmOptions, "code">, path: string, sha256: string, retries = 0) =>
    ecds("f1", wasmAny("http", { ...o, code: { remote: { uri: uri(path), sha256, retries, backoffMs: 5 } } }));
  /** Pushes an ECDS version and returns the node's answer to it. */
  const push = async (resource: ReturnType<typeof ecds>): Promise<Recorded> => {
    const nonce = server.respond(T.extensionConfig, `x${++version}`, [resource.any]);
    return server.next((r) => r.req.type_url === T.extensionConfig && r.req.response_nonce === nonce);
  };
  const plugin = () => node.plugins()[0];

  beforeAll(async () => {
    modules = await startModuleHttpServer();
    modules.serve("/good.wasm", GOOD);
    modules.serve("/trap.wasm", TRAP);
    server = await RawAdsServer.start();
    server.set(T.cluster, "c1", [staticCluster("backend", 8080), staticCluster("wasmxds_modules", modules.port)]);
    server.set(T.listener, "l1", [httpListener("ingress", 10000, [{ ecds: "f1" }])]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend")]);
    server.set(T.extensionConfig, "x1", [remote({ plugin: "good@1", rootId: "good_http", vmId: "same" }, "/good.wasm", GOOD_SHA)]);
    node = new SimNode({ id: "fetcher", xdsAddress: server.address, adminPort: 0 });
    await node.start();
  });

  afterAll(async () => {
    await node.stop();
    await server.close();
    await modules.close();
  });

  it("ACKs, fetches through the module cluster, warms the listener until the code is in, then runs it", async () => {
    const ack = await server.next((r) => r.req.type_url === T.extensionConfig && r.req.version_info === "x1");
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
    const answer = await push(remote({ plugin: "bad@1", rootId: "good_http", vmId: "bad" }, "/good.wasm", TRAP_SHA, 1));
    expect(answer.req.error_detail).toBeNull();
    await waitFor("the failed fetch", () => plugin()?.name === "bad@1");
    expect(modules.hits.get("/good.wasm")).toBe(3); // the first fetch, then one attempt and one retry
    expect(plugin()?.failedToLoad).toBe(true);
    const res = node.sendHttp();
    expect(res).toMatchObject({ status: 503, details: "wasm_fail_stream" });
    expect(node.stats.get("wasm.remote_load_fetch_failures")).toBe(1);
    expect(node.stats.get("http.ingress.downstream_rq_5xx")).toBe(1);
    expect(node.nacks()).toEqual([]);
  });

  it("re-pushed within 10 s, the failed sha256 is a negative cache hit and is NACKed", async () => {
    const answer = await push(remote({ plugin: "bad@2", rootId: "good_http", vmId: "bad" }, "/good.wasm", TRAP_SHA));
    expect(answer.req.error_detail?.message).toBe(`Failed to load WASM code (cached) from ${uri("/good.wasm")}`);
    expect(node.stats.get("wasm.remote_load_cache_negative_hits")).toBe(1);
  });

  it("fails open with FAIL_OPEN: the filter is skipped", async () => {
    await push(remote({ plugin: "open@1", rootId: "good_http", vmId: "open", failurePolicy: "FAIL_OPEN" }, "/missing.wasm", "0".repeat(64)));
    await waitFor("the failed fetch", () => plugin()?.name === "open@1");
    const res = node.sendHttp();
    expect(res?.status).toBe(200);
    expect(res?.upstreamHeaders?.some(([k]) => k === "x-wasmxds")).toBe(false);
  });

  it("loads a cached sha256 synchronously (cache hit, no fetch)", async () => {
    const answer = await push(remote({ plugin: "good@2", rootId: "good_http", vmId: "hit" }, "/good.wasm", GOOD_SHA));
    expect(answer.req.error_detail).toBeNull();
    expect(plugin()?.name).toBe("good@2");
    expect(node.stats.get("wasm.remote_load_cache_hits")).toBe(1);
    expect(modules.hits.get("/good.wasm")).toBe(3);
  });

  it("keeps running the old VM when a new remote module reuses vm_id and vm configuration (ENVOY-NOTES VM identity)", async () => {
    modules.serve("/on-header.wasm", ON_HEADER);
    modules.serve("/nth.wasm", NTH);
    // A cache miss is keyed with empty code: vm_id "shared" + no vm configuration.
    await push(remote({ plugin: "hdr@1", rootId: "trap_on_header", vmId: "shared" }, "/on-header.wasm", sha256Hex(ON_HEADER)));
    await waitFor("hdr@1", () => plugin()?.name === "hdr@1");
    expect(plugin()?.runningCodeSha256).toBe(sha256Hex(ON_HEADER));
    // Another module under the same vm_id: same key, and hdr@1 still holds that base VM, so its code keeps running.
    await push(remote({ plugin: "nth@1", rootId: "trap_on_header", vmId: "shared" }, "/nth.wasm", sha256Hex(NTH)));
    await waitFor("nth@1", () => plugin()?.name === "nth@1");
    expect(modules.hits.get("/nth.wasm")).toBe(1);
    expect(plugin()?.runningCodeSha256).toBe(sha256Hex(ON_HEADER));
    expect(node.sendHttp()?.upstreamHeaders).toContainEqual(["x-checked", "1"]);
    // With the module's hash in vm_id (what wasmxds does) the new code runs.
    await push(remote({ plugin: "nth@2", rootId: "trap_nth_request", vmId: `shared@${sha256Hex(NTH).slice(0, 8)}` }, "/nth.wasm", sha256Hex(NTH)));
    expect(plugin()?.runningCodeSha256).toBe(sha256Hex(NTH));
  });
});
