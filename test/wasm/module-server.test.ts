import { createHash, randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryLogger } from "../../src/logger";
import { ModuleStore } from "../../src/wasm/module-store";
import { DEFAULT_MODULES_ADDRESS, type ModuleServer, startModuleServer } from "../../src/wasm/module-server";

/** What Envoy checks RemoteDataSource.sha256 against: lowercase hex of the raw body. */
const envoySha256 = (body: Uint8Array) => createHash("sha256").update(body).digest("hex");

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** node:http sends the path as given; fetch would normalise `..` away before it left the client. */
function raw(server: ModuleServer, path: string, method = "GET", headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: server.address.host, port: server.address.port, path, method, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("module server", () => {
  const store = new ModuleStore();
  const bytes = Buffer.concat([Buffer.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), randomBytes(5000)]);
  // Known before the store sees the bytes, so test names can show real paths.
  const sha256 = envoySha256(bytes);
  let server: ModuleServer;

  beforeAll(async () => {
    expect((await store.put(bytes)).sha256).toBe(sha256);
    server = await startModuleServer({ store, host: "127.0.0.1", port: 0, logger: memoryLogger() });
  });
  afterAll(async () => {
    await server.close();
  });

  it("defaults to 127.0.0.1:18002", () => {
    expect(DEFAULT_MODULES_ADDRESS).toBe("127.0.0.1:18002");
  });

  it("serves the module so that Envoy's sha256 check passes", async () => {
    const url = server.url(sha256);
    expect(url).toBe(`http://127.0.0.1:${server.address.port}/modules/${sha256}.wasm`);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(envoySha256(body)).toBe(sha256);
    expect(res.headers.get("content-type")).toBe("application/wasm");
    expect(res.headers.get("etag")).toBe(`"${sha256}"`);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("content-length")).toBe(String(bytes.length));
    expect(res.headers.get("accept-ranges")).toBe("bytes");
  });

  it("answers HEAD with the headers and no body", async () => {
    const res = await raw(server, `/modules/${sha256}.wasm`, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers["content-length"]).toBe(String(bytes.length));
    expect(res.headers["etag"]).toBe(`"${sha256}"`);
    expect(res.body.length).toBe(0);
  });

  it.each([
    ["bytes=0-7", 0, 7],
    ["bytes=100-", 100, 5007],
    ["bytes=-16", 4992, 5007],
    ["bytes=5000-999999", 5000, 5007],
    ["bytes=-999999", 0, 5007],
  ])("serves %s as 206", async (range, start, end) => {
    const res = await fetch(server.url(sha256), { headers: { range } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${bytes.length}`);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(bytes.subarray(start, end + 1))).toBe(true);
    expect(res.headers.get("content-length")).toBe(String(end - start + 1));
  });

  it.each(["bytes=5008-", "bytes=99999-100000", "bytes=-0"])("answers unsatisfiable %s with 416", async (range) => {
    const res = await fetch(server.url(sha256), { headers: { range } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${bytes.length}`);
    await res.arrayBuffer();
  });

  it.each(["bytes=0-1,5-6", "bytes=9-3", "items=0-1", "bytes=abc"])(
    "serves the whole module for a multi-range or ignorable Range %s",
    async (range) => {
      const res = await fetch(server.url(sha256), { headers: { range } });
      expect(res.status).toBe(200);
      expect(envoySha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256);
    },
  );

  it("ignores Range when If-Range does not match", async () => {
    const res = await fetch(server.url(sha256), { headers: { range: "bytes=0-1", "if-range": '"other"' } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const hit = await fetch(server.url(sha256), { headers: { range: "bytes=0-1", "if-range": `"${sha256}"` } });
    expect(hit.status).toBe(206);
    await hit.arrayBuffer();
  });

  it.each([`"${sha256}"`, `W/"${sha256}"`, `"x", "${sha256}"`, "*"])(
    "answers If-None-Match %s with 304",
    async (tag) => {
      const res = await raw(server, `/modules/${sha256}.wasm`, "GET", { "if-none-match": tag, range: "bytes=0-1" });
      expect(res.status).toBe(304);
      expect(res.headers["etag"]).toBe(`"${sha256}"`);
      expect(res.body.length).toBe(0);
    },
  );

  it("serves the body when If-None-Match does not match", async () => {
    const res = await raw(server, `/modules/${sha256}.wasm`, "GET", { "if-none-match": '"other"' });
    expect(res.status).toBe(200);
  });

  it("answers 404 in plain text for a well-formed but unknown hash", async () => {
    const res = await raw(server, `/modules/${"0".repeat(64)}.wasm`);
    expect(res.status).toBe(404);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
  });

  it.each([
    "/modules/../package.json",
    "/modules/%2e%2e%2fpackage.json",
    "/modules/%2E%2E/package.json",
    "/modules/..%2f..%2fpackage.json",
    "/../package.json",
    "/package.json",
    `/modules/${sha256.toUpperCase()}.wasm`,
    `/modules/${sha256}.WASM`,
    `/modules/${sha256}`,
    `/modules/${sha256}.wasm/`,
    `/modules/${sha256}.wasm/extra`,
    `/modules/${sha256}.wasm%00`,
    `/modules/x/${sha256}.wasm`,
    `/modules/./${sha256}.wasm`,
    `//modules/${sha256}.wasm`,
    `/modules/%${sha256.slice(1)}.wasm`,
    "/modules/",
    "/",
  ])("answers 404 to %s", async (path) => {
    const res = await raw(server, path);
    expect(res.status).toBe(404);
    expect(res.body.toString()).toBe("not found\n");
  });

  it("ignores a query string", async () => {
    const res = await raw(server, `/modules/${sha256}.wasm?v=1`);
    expect(res.status).toBe(200);
    expect(envoySha256(res.body)).toBe(sha256);
  });

  it.each(["POST", "PUT", "DELETE", "OPTIONS"])("answers %s with 405 and Allow", async (method) => {
    const res = await raw(server, `/modules/${sha256}.wasm`, method);
    expect(res.status).toBe(405);
    expect(res.headers["allow"]).toBe("GET, HEAD");
    expect((await raw(server, "/healthz", method)).status).toBe(405);
  });

  it("answers /healthz", async () => {
    const res = await fetch(`http://127.0.0.1:${server.address.port}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok\n");
  });

  it("refuses to build a URL from anything but a lowercase hex sha256", () => {
    expect(() => server.url("../package.json")).toThrow(expect.objectContaining({ code: "MODULE_INVALID" }));
    expect(() => server.url(sha256.toUpperCase())).toThrow(/lowercase hex sha256/);
  });
});

describe("module server lifecycle", () => {
  it("closes promptly while a keep-alive connection is open", async () => {
    const store = new ModuleStore();
    const { sha256 } = await store.put(Buffer.from("module"));
    const server = await startModuleServer({ store, host: "127.0.0.1", port: 0, logger: memoryLogger() });
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      const req = request(server.url(sha256), { agent }, (res) => {
        res.resume();
        res.on("end", resolve);
      });
      req.on("error", reject);
      req.end();
    });
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await server.close();
    agent.destroy();
  });

  it("reports an address already in use", async () => {
    const store = new ModuleStore();
    const first = await startModuleServer({ store, host: "127.0.0.1", port: 0, logger: memoryLogger() });
    try {
      await expect(
        startModuleServer({ store, host: "127.0.0.1", port: first.address.port, logger: memoryLogger() }),
      ).rejects.toMatchObject({
        code: "ADDRESS_INVALID",
        message: expect.stringContaining(`module server: cannot listen on 127.0.0.1:${first.address.port}`),
      });
    } finally {
      await first.close();
    }
  });
});
