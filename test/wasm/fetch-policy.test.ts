/** The fetch policy from the config: server.allowPrivateFetch, server.maxModuleBytes and a filter's insecure, applied per call; the connect timeout. */
import { createHash } from "node:crypto";
import { type Server, createServer } from "node:http";
import { type Server as HttpsServer, createServer as createHttpsServer } from "node:https";
import { type AddressInfo, connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { ModuleStore } from "../../src/wasm/module-store";
import { FakeClock } from "../../src/time/fake-clock";
import { DEFAULT_MAX_FETCH_BYTES, RemoteModuleResolver, fetchModule } from "../../src/wasm/remote-fetch";
import { type TestCa, makeCa, makeServerCert } from "../helpers/certificates";
import { issues, withFilter } from "../helpers/config-issues";

const body = Buffer.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
const sha256 = createHash("sha256").update(body).digest("hex");
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((_req, res) => res.end(body));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m.wasm`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("server.allowPrivateFetch", () => {
  it("parses as a boolean, unset by default", () => {
    expect(parseConfig(`server: { allowPrivateFetch: true }\n${withFilter("module: m.wasm")}`).server.allowPrivateFetch).toBe(true);
    expect(parseConfig(withFilter("module: m.wasm")).server.allowPrivateFetch).toBeUndefined();
    expect(issues(`server: { allowPrivateFetch: "yes" }\n${withFilter("module: m.wasm")}`).join("\n")).toMatch(/allowPrivateFetch/);
  });

  it("a loopback url is refused by default and fetched when the config allows it", async () => {
    const resolver = new RemoteModuleResolver(new ModuleStore(), { retries: 0, insecure: true });
    await expect(resolver.resolve(url, sha256)).rejects.toMatchObject({
      code: "MODULE_FETCH_FAILED",
      message: `${url}: 127.0.0.1 is a loopback address; set server.allowPrivateFetch: true to fetch from it`,
    });
    expect(await resolver.resolve(url, sha256, { allowPrivateFetch: true })).toEqual({ sha256, size: body.length });
  });
});

describe("https only, size cap and connect timeout", () => {
  it("refuses plain http unless the filter says insecure: true, before connecting", async () => {
    let hits = 0;
    server.once("request", () => hits++);
    const resolver = new RemoteModuleResolver(new ModuleStore(), { retries: 0, allowPrivateFetch: true });
    await expect(resolver.resolve(url, sha256)).rejects.toMatchObject({
      code: "MODULE_FETCH_FAILED",
      message: `${url}: plain http refused; expected https, or insecure: true on the filter`,
    });
    expect(hits).toBe(0);
    expect(await resolver.resolve(url, sha256, { insecure: true })).toEqual({ sha256, size: body.length });
  });

  it("the config: http url needs insecure, insecure needs url, maxModuleBytes is a byte count", () => {
    const SHA = "a".repeat(64);
    expect(issues(withFilter(`url: http://x.example/m.wasm\nsha256: ${SHA}`))).toEqual([
      "wasmxds.yaml: filters[0].url: expected an https:// URL; set insecure: true to fetch over plain http",
    ]);
    expect(issues(withFilter("module: m.wasm\ninsecure: true"))).toEqual(["wasmxds.yaml: filters[0].insecure: only allowed with url"]);
    const config = parseConfig(`server: { maxModuleBytes: 1024 }\n${withFilter(`url: http://x.example/m.wasm\nsha256: ${SHA}\ninsecure: true`)}`);
    expect(config.filters[0]?.module).toEqual({ type: "url", url: "http://x.example/m.wasm", sha256: SHA, insecure: true });
    expect(config.server.maxModuleBytes).toBe(1024);
    expect(issues(`server: { maxModuleBytes: 0 }\n${withFilter("module: m.wasm")}`).join("\n")).toMatch(/maxModuleBytes: expected at least 1 byte/);
    expect(DEFAULT_MAX_FETCH_BYTES).toBe(256 * 1024 * 1024);
  });

  it("server.maxModuleBytes reaches the fetch: a module over it is refused and not stored", async () => {
    const store = new ModuleStore();
    const resolver = new RemoteModuleResolver(store, { retries: 0, allowPrivateFetch: true, insecure: true });
    await expect(resolver.resolve(url, sha256, { maxBytes: 4 })).rejects.toMatchObject({ code: "MODULE_TOO_LARGE" });
    expect(store.list()).toEqual([]);
  });

  it("gives up on a host that never accepts after the connect timeout (clock advanced)", async (ctx) => {
    // 10.255.255.1 is unrouted: SYNs go unanswered, so only the connect timer ends the attempt.
    // Where the network answers at once instead (ENETUNREACH), there is no hanging connect to time out.
    if (!(await connectHangs("10.255.255.1", 80))) ctx.skip();
    const clock = new FakeClock();
    const target = "http://10.255.255.1/m.wasm";
    const pending = fetchModule(target, sha256, { retries: 0, allowPrivateFetch: true, insecure: true, connectTimeoutMs: 5_000, clock });
    const outcome = expect(pending).rejects.toMatchObject({
      code: "MODULE_FETCH_FAILED",
      message: `${target}: connect to 10.255.255.1 timed out after 5000 ms`,
    });
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(5_000);
    await outcome;
  });
});

describe("https", () => {
  let tlsServer: HttpsServer;
  let tlsOrigin: string;
  let ca: TestCa;

  beforeAll(async () => {
    ca = await makeCa();
    const pem = await makeServerCert(ca);
    tlsServer = createHttpsServer({ cert: pem.cert, key: pem.key }, (req, res) => {
      if (req.url === "/down") {
        res.statusCode = 302;
        res.setHeader("location", url);
        res.end();
        return;
      }
      res.end(body);
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
    tlsOrigin = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    tlsServer.closeAllConnections();
    await new Promise((resolve) => tlsServer.close(resolve));
  });

  it("fetches over https without insecure, and refuses a redirect down to plain http", async () => {
    const options = { retries: 0, allowPrivateFetch: true, ca: ca.cert };
    expect((await fetchModule(`${tlsOrigin}/m.wasm`, sha256, options)).equals(body)).toBe(true);
    await expect(fetchModule(`${tlsOrigin}/down`, sha256, options)).rejects.toMatchObject({
      code: "MODULE_FETCH_FAILED",
      message: `${tlsOrigin}/down: plain http refused (redirected to ${url}); expected https, or insecure: true on the filter`,
    });
  });
});

/** Whether a TCP connect to the address is still pending after 200 ms (unanswered), rather than failing at once. */
function connectHangs(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (hangs: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(hangs);
    };
    const timer = setTimeout(() => done(true), 200);
    socket.once("error", () => done(false));
    socket.once("connect", () => done(false));
  });
}
