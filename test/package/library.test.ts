/**
 * The library as a program that installed the package sees it: imported by
 * name ("wasmxds", "wasmxds/cache", ...), which resolves through
 * package.json "exports" to dist/ (vitest resolves the package's own name as
 * Node does). Only what the exports map lists is reachable.
 *
 * Regression test: the package had no main, exports or types; the README's
 * library example imported from ./src/.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "wasmxds";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient, resourcesOf } from "../helpers/ads-client";
import { ensureBuilt, ROOT } from "./ensure-built";

// After ensureBuilt(), so that the import reads a current build.
const load = <T>(name: string): Promise<T> => import(/* @vite-ignore */ name) as Promise<T>;
type Module = Record<string, unknown>;

beforeAll(() => ensureBuilt(), 180_000);

describe("the exports map", () => {
  it("gives each entry its named exports, and no default export", async () => {
    const main = await load<Module>("wasmxds");
    const cache = await load<Module>("wasmxds/cache");
    const xds = await load<Module>("wasmxds/xds");
    const sim = await load<Module>("wasmxds/sim");
    expect(typeof main.startWasmxds).toBe("function");
    expect(typeof main.WasmxdsError).toBe("function");
    expect(main.DEFAULT_ADDRESSES).toEqual({ xds: "127.0.0.1:18000", modules: "127.0.0.1:18002", admin: "127.0.0.1:18003" });
    expect(typeof cache.SnapshotCache).toBe("function");
    expect(typeof cache.Snapshot).toBe("function");
    expect(typeof cache.byCluster).toBe("function");
    expect(typeof xds.XdsServer).toBe("function");
    expect(xds.TYPE_URLS).toEqual(TYPE_URLS);
    expect(typeof sim.SimFleet).toBe("function");
    expect(typeof sim.FakeClock).toBe("function");
    for (const m of [main, cache, xds, sim]) expect(m.default).toBeUndefined();
  });

  it("refuses paths it does not list", async () => {
    await expect(load("wasmxds/src/main")).rejects.toThrow();
    await expect(load("wasmxds/dist/main.js")).rejects.toThrow();
  });

  it("shares classes between entries: a Snapshot from wasmxds/cache is served by XdsServer from wasmxds/xds", async () => {
    const { Snapshot, SnapshotCache } = await load<typeof import("wasmxds/cache")>("wasmxds/cache");
    const { XdsServer, TYPE_URLS: urls } = await load<typeof import("wasmxds/xds")>("wasmxds/xds");
    const cache = new SnapshotCache();
    const xds = new XdsServer({ cache });
    const server = new grpc.Server();
    xds.register(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    cache.setSnapshot(
      "edge-1",
      Snapshot.create({ [urls.cluster]: [{ name: "backend", message: { name: "backend", connect_timeout: { seconds: 1 } } }] }),
    );
    const client = new AdsClient(port, { id: "edge-1", cluster: "edge" });
    try {
      client.request({ typeUrl: urls.cluster });
      const resp = await client.next(urls.cluster);
      expect(resourcesOf(resp).map((r) => r.name)).toEqual(["backend"]);
    } finally {
      client.cancel();
      xds.closeAllStreams();
      server.forceShutdown();
    }
  });
});

describe("startWasmxds imported by name", () => {
  let app: RunningWasmxds;

  beforeAll(async () => {
    const { startWasmxds, silentLogger } = await load<typeof import("wasmxds")>("wasmxds");
    app = await startWasmxds({
      configDir: `${ROOT}/config`,
      xdsAddress: { host: "127.0.0.1", port: 0 },
      modulesAddress: { host: "127.0.0.1", port: 0 },
      adminAddress: null,
      stateDir: null,
      watch: false,
      logger: silentLogger,
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close(0);
  });

  it("serves the bundled example, its modules pre-flight checked by the built worker", async () => {
    const client = new AdsClient(app.xdsAddress.port, { id: "envoy-embedded", cluster: "edge" });
    try {
      client.request({ typeUrl: TYPE_URLS.listener });
      const resp = await client.next(TYPE_URLS.listener);
      expect(resourcesOf(resp).map((r) => r.name).sort()).toEqual(["ingress", "tcp-in"]);
    } finally {
      client.cancel();
    }
  });
});
