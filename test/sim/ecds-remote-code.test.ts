/**
 * Remote wasm code over ECDS, as Envoy's source has it (docs/ENVOY.md
 * "Remote code over ECDS"; source/extensions/common/wasm/wasm.cc createWasm,
 * remote_async_datasource.cc, source/common/init/manager_impl.cc; Envoy 1.33
 * and main):
 * - default: the fetch is registered with the init manager of a listener
 *   that has already warmed, so it never starts. The update is ACKed,
 *   config_reload counts, nothing is fetched, and the filter has no VM and
 *   is left out of the chain: traffic bypasses it, whatever failure_policy
 *   says. The sha256 then stays "in progress" in the node's cache, so a
 *   later config with it fails closed (still ACKed, still no fetch);
 * - nack_on_code_cache_miss: true: a cache miss is NACKed while a
 *   one-attempt fetch fills the cache; an identical re-push is skipped
 *   (ECDS hash skip) and ACKed with the old filter still serving; a push
 *   that differs loads the cached code synchronously.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NACK_CODE, SimNode } from "../../src/sim";
import {
  ecds,
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
import { RawAdsServer } from "../helpers/raw-ads-server";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;
const PREFIX = "extension_config_discovery.http_filter.f1.";
const ON_HEADER = moduleBytes("trap_on_header");
const NTH = moduleBytes("trap_nth_request");

describe("remote wasm code over ECDS", () => {
  let server: RawAdsServer;
  let modules: ModuleHttpServer;
  let node: SimNode;
  let version = 1;

  const uri = (path: string) => `http://modules.test:${modules.port}${path}`;
  const remote = (o: Omit<WasmOptions, "code">, path: string, sha256: string) =>
    ecds("f1", wasmAny("http", { ...o, code: { remote: { uri: uri(path), sha256, retries: 0, backoffMs: 5 } } }));
  const inline = (plugin: string) => ecds("f1", wasmAny("http", { plugin, rootId: "good_http", code: { inline: moduleBytes("good_http") } }));
  const push = async (resource: Res) => {
    const v = `x${++version}`;
    const nonce = server.respond(T.extensionConfig, v, [resource.any]);
    return { v, req: (await server.next((r) => r.req.type_url === T.extensionConfig && r.req.response_nonce === nonce)).req };
  };
  const serving = () => node.plugins().map((p) => p.name);

  beforeAll(async () => {
    modules = await startModuleHttpServer();
    modules.serve("/on-header.wasm", ON_HEADER);
    modules.serve("/nth.wasm", NTH);
    server = await RawAdsServer.start();
    server.set(T.cluster, "c1", [staticCluster("backend", 8080), staticCluster("wasmxds_modules", modules.port)]);
    server.set(T.listener, "l1", [httpListener("ingress", 10000, [{ ecds: "f1" }])]);
    server.set(T.route, "r1", [routeConfig("ingress", "backend")]);
    server.set(T.extensionConfig, "x1", [inline("guard@1")]);
    node = new SimNode({ id: "ecds-remote", xdsAddress: server.address });
    await node.start();
    await waitFor("LIVE", () => node.serverState === "LIVE");
  });

  afterAll(async () => {
    await node.stop();
    await server.close();
    await modules.close();
  });

  it("on a warm listener: ACKs, counts config_reload, fetches nothing, and leaves the filter out of the chain", async () => {
    const { req } = await push(remote({ plugin: "guard@2", rootId: "trap_on_header", failurePolicy: "FAIL_CLOSED" }, "/on-header.wasm", sha256Hex(ON_HEADER)));
    expect(req.error_detail).toBeNull();
    expect(node.stats.get(`${PREFIX}config_reload`)).toBe(2);
    expect(serving()).toEqual(["guard@2"]);
    // No fetch is pending (a started one would be); the module server's count is checked again below.
    expect(node.plugins()[0]?.loading).toBe(false);
    expect(modules.hits.get("/on-header.wasm")).toBeUndefined();
    const res = node.sendHttp();
    expect(res?.status).toBe(200);
    expect(res?.upstreamHeaders?.some(([k]) => k === "x-checked" || k === "x-wasmxds")).toBe(false);
    expect(node.stats.toRecord()).toMatchObject({ "wasm.remote_load_cache_misses": 1, "wasm.remote_load_fetch_successes": 0, "wasm.remote_load_fetch_failures": 0 });
    expect(node.nacks()).toEqual([]);
  });

  it("then the same sha256 is 'in progress' for good: a new config with it is ACKed and fails closed, still with no fetch", async () => {
    const { req } = await push(remote({ plugin: "guard@3", rootId: "trap_on_header" }, "/on-header.wasm", sha256Hex(ON_HEADER)));
    expect(req.error_detail).toBeNull();
    expect(node.sendHttp()).toMatchObject({ status: 503, details: "wasm_fail_stream" });
    expect(node.stats.get("wasm.remote_load_cache_misses")).toBe(2);
    expect(modules.hits.get("/on-header.wasm")).toBeUndefined();
    expect(node.nacks()).toEqual([]);
  });

  it("with nack_on_code_cache_miss: NACKs the miss, fetches in the background, skips an identical re-push, loads a differing one", async () => {
    expect((await push(inline("guard@4"))).req.error_detail).toBeNull();
    const nth = { rootId: "trap_nth_request", nackOnCodeCacheMiss: true } as const;
    const miss = remote({ plugin: "guard@5", ...nth }, "/nth.wasm", sha256Hex(NTH));
    const nack = await push(miss);
    expect(nack.req.error_detail).toMatchObject({ code: NACK_CODE, message: "Unable to create Wasm plugin guard@5" });
    await waitFor("the background fetch", () => node.stats.get("wasm.remote_load_fetch_successes") === 1);
    expect(modules.hits.get("/nth.wasm")).toBe(1);
    expect(serving()).toEqual(["guard@4"]);
    // The control plane pushes the same config again: Envoy skips it by hash and ACKs; guard@4 still serves.
    const same = await push(miss);
    expect(same.req.error_detail).toBeNull();
    expect(serving()).toEqual(["guard@4"]);
    // A config that differs (here: the plugin name) with the same sha256 is a cache hit and loads now.
    const differing = await push(remote({ plugin: "guard@5-retry", ...nth }, "/nth.wasm", sha256Hex(NTH)));
    expect(differing.req.error_detail).toBeNull();
    expect(serving()).toEqual(["guard@5-retry"]);
    expect(node.plugins()[0]?.runningCodeSha256).toBe(sha256Hex(NTH));
    expect(node.stats.get("wasm.remote_load_cache_hits")).toBe(1);
    expect(modules.hits.get("/nth.wasm")).toBe(1);
  });
});
