import { createHash, randomBytes } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { memoryLogger } from "../../src/logger";
import { ModuleStore } from "../../src/wasm/module-store";
import { startModuleServer } from "../../src/wasm/module-server";
import { RemoteModuleResolver, fetchModule } from "../../src/wasm/remote-fetch";

const envoySha256 = (body: Uint8Array) => createHash("sha256").update(body).digest("hex");
const moduleBytes = Buffer.concat([Buffer.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), randomBytes(20_000)]);
const sha256 = envoySha256(moduleBytes);
// The artifact host listens on 127.0.0.1, which the SSRF guard refuses by default.
// It serves plain http, which needs the filter's insecure: true.
const fast = { backoffMs: 1, logger: memoryLogger(), allowPrivateFetch: true, insecure: true };

/** An artifact host whose behaviour each test picks by path; counts hits per path. */
const hits = new Map<string, number>();
let origin: string;
let artifactHost: Server;
let chunkedBytesSent = 0;
let chunkedClosed: Promise<void> = Promise.resolve();

function route(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? "";
  const count = (hits.get(path) ?? 0) + 1;
  hits.set(path, count);
  switch (path) {
    case "/good.wasm":
      res.setHeader("content-length", moduleBytes.length);
      res.end(moduleBytes);
      return;
    case "/chunked-good.wasm":
      // No Content-Length: the size is only known while streaming.
      res.write(moduleBytes.subarray(0, 1000));
      res.end(moduleBytes.subarray(1000));
      return;
    case "/other.wasm":
      res.end(Buffer.from("not the module"));
      return;
    case "/flaky.wasm":
      if (count === 1) {
        res.statusCode = 500;
        res.end("boom");
        return;
      }
      res.end(moduleBytes);
      return;
    case "/always-500.wasm":
      res.statusCode = 503;
      res.end("down");
      return;
    case "/missing.wasm":
      res.statusCode = 404;
      res.end("no");
      return;
    case "/big-declared.wasm":
      res.setHeader("content-length", 1_000_000);
      res.end(Buffer.alloc(1_000_000));
      return;
    case "/big-chunked.wasm": {
      // Streams 1 KiB chunks until the client goes away, up to 64 MiB.
      chunkedBytesSent = 0;
      chunkedClosed = new Promise((resolve) => res.on("close", resolve));
      const chunk = Buffer.alloc(1024);
      const pump = () => {
        while (!res.destroyed && chunkedBytesSent < 64 * 1024 * 1024) {
          chunkedBytesSent += chunk.length;
          if (!res.write(chunk)) {
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    case "/stall-body.wasm":
      res.setHeader("content-length", moduleBytes.length);
      res.write(moduleBytes.subarray(0, 100));
      return; // never finishes
    case "/to-metadata":
      res.statusCode = 302;
      res.setHeader("location", "http://169.254.169.254/latest/meta-data/");
      res.end();
      return;
    case "/to-good":
      res.statusCode = 301;
      res.setHeader("location", "/good.wasm");
      res.end();
      return;
    case "/loop":
      res.statusCode = 307;
      res.setHeader("location", "/loop");
      res.end();
      return;
    case "/no-answer.wasm":
      return; // never answers
    default:
      res.statusCode = 404;
      res.end();
  }
}

beforeAll(async () => {
  artifactHost = createServer(route);
  await new Promise<void>((resolve) => artifactHost.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(artifactHost.address() as AddressInfo).port}`;
});
afterAll(async () => {
  artifactHost.closeAllConnections();
  await new Promise((resolve) => artifactHost.close(resolve));
});
beforeEach(() => hits.clear());

describe("fetchModule", () => {
  it("returns a module whose sha256 matches", async () => {
    const body = await fetchModule(`${origin}/good.wasm`, sha256, fast);
    expect(body.equals(moduleBytes)).toBe(true);
    expect((await fetchModule(`${origin}/chunked-good.wasm`, sha256, fast)).equals(moduleBytes)).toBe(true);
  });

  it("names the URL and both hashes on a mismatch, without retrying", async () => {
    const url = `${origin}/other.wasm`;
    const got = envoySha256(Buffer.from("not the module"));
    await expect(fetchModule(url, sha256, fast)).rejects.toMatchObject({
      name: "ModuleError",
      code: "MODULE_HASH_MISMATCH",
      message: `${url}: sha256 mismatch: expected ${sha256}, got ${got}`,
    });
    expect(hits.get("/other.wasm")).toBe(1);
  });

  it("retries after a 500 and succeeds, logging the retry", async () => {
    const logger = memoryLogger();
    const body = await fetchModule(`${origin}/flaky.wasm`, sha256, { ...fast, logger });
    expect(envoySha256(body)).toBe(sha256);
    expect(hits.get("/flaky.wasm")).toBe(2);
    const warning = logger.records.find((r) => r.level === "warn");
    expect(warning?.fields).toMatchObject({ url: `${origin}/flaky.wasm`, attempt: 1 });
  });

  it("gives up after the configured retries with the status in the message", async () => {
    const url = `${origin}/always-500.wasm`;
    await expect(fetchModule(url, sha256, { ...fast, retries: 2 })).rejects.toMatchObject({
      code: "MODULE_FETCH_FAILED",
      message: `${url}: HTTP 503 Service Unavailable (after 3 attempts)`,
    });
    expect(hits.get("/always-500.wasm")).toBe(3);
  });

  it("does not retry a 404", async () => {
    const url = `${origin}/missing.wasm`;
    await expect(fetchModule(url, sha256, fast)).rejects.toMatchObject({
      code: "MODULE_FETCH_FAILED",
      message: `${url}: HTTP 404 Not Found`,
    });
    expect(hits.get("/missing.wasm")).toBe(1);
  });

  it("refuses a too-large module from its Content-Length before reading the body", async () => {
    const url = `${origin}/big-declared.wasm`;
    await expect(fetchModule(url, sha256, { ...fast, maxBytes: 1000 })).rejects.toMatchObject({
      code: "MODULE_TOO_LARGE",
      message: `${url}: module is 1000000 bytes, over the 1000-byte limit`,
    });
  });

  it("stops streaming a too-large module without Content-Length at the cap", async () => {
    const url = `${origin}/big-chunked.wasm`;
    await expect(fetchModule(url, sha256, { ...fast, maxBytes: 64 * 1024 })).rejects.toMatchObject({
      code: "MODULE_TOO_LARGE",
      message: `${url}: module is over the 65536-byte limit`,
    });
    await chunkedClosed;
    // The client hung up near the cap instead of draining 64 MiB (socket buffers allow some slack).
    expect(chunkedBytesSent).toBeLessThan(16 * 1024 * 1024);
    expect(hits.get("/big-chunked.wasm")).toBe(1);
  });

  it("times out a stalled body and a server that never answers", async () => {
    for (const path of ["/stall-body.wasm", "/no-answer.wasm"]) {
      const url = `${origin}${path}`;
      await expect(fetchModule(url, sha256, { ...fast, timeoutMs: 200, retries: 1 })).rejects.toMatchObject({
        code: "MODULE_FETCH_FAILED",
        message: `${url}: timed out after 200 ms (after 2 attempts)`,
      });
      expect(hits.get(path)).toBe(2);
    }
  });

  it("stops when its signal aborts", async () => {
    const url = `${origin}/no-answer.wasm`;
    const controller = new AbortController();
    const pending = fetchModule(url, sha256, { ...fast, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: "MODULE_FETCH_FAILED", message: `${url}: aborted` });
    expect(hits.get("/no-answer.wasm")).toBe(1);
  });

  it("names the URL on connection errors", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const url = `http://127.0.0.1:${port}/m.wasm`;
    await expect(fetchModule(url, sha256, { ...fast, retries: 0 })).rejects.toMatchObject({
      code: "MODULE_FETCH_FAILED",
      message: expect.stringMatching(new RegExp(`^${url.replace(/[.]/g, "\\.")}: .*ECONNREFUSED`)),
    });
  });

  it("rejects bad URLs and badly spelled hashes up front", async () => {
    await expect(fetchModule("ftp://x/y.wasm", sha256)).rejects.toThrow('ftp://x/y.wasm: unsupported scheme "ftp:"');
    await expect(fetchModule("not a url", sha256)).rejects.toThrow("not a url: not a valid URL");
    await expect(fetchModule(`${origin}/good.wasm`, sha256.toUpperCase())).rejects.toMatchObject({
      code: "MODULE_INVALID",
    });
    expect(hits.size).toBe(0);
  });
});

describe("SSRF guard", () => {
  const guarded = { backoffMs: 1, retries: 0, insecure: true };
  const refused = (address: string, rule: string) =>
    expect.objectContaining({
      code: "MODULE_FETCH_FAILED",
      message: expect.stringContaining(`${address} is ${rule}`),
    });

  it("refuses loopback, link-local, private and [::1] addresses, naming the rule", async () => {
    const port = (artifactHost.address() as AddressInfo).port;
    await expect(fetchModule(`http://127.0.0.1:${port}/good.wasm`, sha256, guarded)).rejects.toEqual(
      refused("127.0.0.1", "a loopback address; set server.allowPrivateFetch: true to fetch from it"),
    );
    await expect(fetchModule("http://169.254.169.254/latest/meta-data/", sha256, guarded)).rejects.toEqual(
      refused("169.254.169.254", "a link-local address"),
    );
    await expect(fetchModule("http://10.20.30.40/m.wasm", sha256, guarded)).rejects.toEqual(refused("10.20.30.40", "a private address"));
    await expect(fetchModule(`http://[::1]:${port}/good.wasm`, sha256, guarded)).rejects.toEqual(refused("::1", "a loopback address"));
    await expect(fetchModule("http://[::ffff:127.0.0.1]/m.wasm", sha256, guarded)).rejects.toEqual(
      refused("::ffff:7f00:1", "a loopback address (IPv4-mapped 127.0.0.1)"),
    );
    expect(hits.size).toBe(0);
  });

  it("resolves names first: localhost is refused by the address it resolves to", async () => {
    const port = (artifactHost.address() as AddressInfo).port;
    await expect(fetchModule(`http://localhost:${port}/good.wasm`, sha256, guarded)).rejects.toMatchObject({
      message: expect.stringMatching(/is a loopback address \(localhost resolves to it\); set server\.allowPrivateFetch: true/),
    });
    expect(hits.size).toBe(0);
  });

  it("refuses a redirect to the metadata address, and follows a redirect it allows", async () => {
    const allowHost = { ...guarded, allowAddresses: ["127.0.0.1"] };
    await expect(fetchModule(`${origin}/to-metadata`, sha256, allowHost)).rejects.toEqual(
      refused("169.254.169.254", "a link-local address"),
    );
    expect(hits.get("/to-metadata")).toBe(1);
    expect((await fetchModule(`${origin}/to-good`, sha256, allowHost)).equals(moduleBytes)).toBe(true);
  });

  it("follows at most 5 redirects", async () => {
    await expect(fetchModule(`${origin}/loop`, sha256, fast)).rejects.toMatchObject({
      code: "MODULE_FETCH_FAILED",
      message: `${origin}/loop: more than 5 redirects`,
    });
    expect(hits.get("/loop")).toBe(6);
  });

  it("connects to the vetted address, not to a second DNS answer", async () => {
    let lookups = 0;
    // A resolver that would rebind to 10.0.0.1 on a second lookup: only the first answer is ever used.
    const resolver = async () => [{ address: lookups++ === 0 ? "127.0.0.1" : "10.0.0.1", family: 4 as const }];
    const port = (artifactHost.address() as AddressInfo).port;
    const body = await fetchModule(`http://artifacts.example:${port}/good.wasm`, sha256, {
      ...guarded,
      allowAddresses: ["127.0.0.1"],
      resolver,
    });
    expect(body.equals(moduleBytes)).toBe(true);
    expect(lookups).toBe(1);
  });
});

describe("RemoteModuleResolver", () => {
  it("fetches once, stores, and the module server re-serves the same bytes", async () => {
    const store = new ModuleStore();
    const resolver = new RemoteModuleResolver(store, fast);
    const url = `${origin}/good.wasm`;
    const [a, b] = await Promise.all([resolver.resolve(url, sha256), resolver.resolve(url, sha256)]);
    expect(a).toEqual({ sha256, size: moduleBytes.length });
    expect(b).toEqual(a);
    expect(await resolver.resolve(url, sha256)).toEqual(a);
    // Another URL for the same content is a store hit too.
    expect(await resolver.resolve(`${origin}/flaky.wasm`, sha256)).toEqual(a);
    expect(hits.get("/good.wasm")).toBe(1);
    expect(hits.has("/flaky.wasm")).toBe(false);

    const server = await startModuleServer({ store, host: "127.0.0.1", port: 0, logger: memoryLogger() });
    try {
      const res = await fetch(server.url(sha256));
      expect(envoySha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256);
    } finally {
      await server.close();
    }
  });

  it("stores nothing when verification fails", async () => {
    const store = new ModuleStore();
    const resolver = new RemoteModuleResolver(store, fast);
    await expect(resolver.resolve(`${origin}/other.wasm`, sha256)).rejects.toMatchObject({
      code: "MODULE_HASH_MISMATCH",
    });
    expect(store.list()).toEqual([]);
  });
});
