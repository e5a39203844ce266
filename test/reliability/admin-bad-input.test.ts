/**
 * Regression: a malformed percent-encoding on the admin API
 * (GET /v1/filters/%E0%A4%A) was a 500. Every input the admin API takes
 * (path, query string, body: size, content type, encoding, JSON) now gives
 * a 4xx with a JSON error saying what was expected; a slow client is cut
 * off with 408; and the server keeps answering afterwards.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminRouter, startAdminServer } from "../../src/admin/admin-server";
import { memoryLogger } from "../../src/logger";
import type { RunningWasmxds } from "../../src/main";
import { startTestApp } from "../helpers/app";
import { EXAMPLE_CONFIG } from "../helpers/wasm-bytes";

interface Answer {
  readonly status: number;
  readonly json: { error?: string; status?: number } | undefined;
  readonly headers: Record<string, string | string[] | undefined>;
}

function send(port: number, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: Answer["json"];
        try {
          json = text ? (JSON.parse(text) as Answer["json"]) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json, headers: res.headers });
      });
    });
    // The server may answer and close while a large body is still going out.
    req.on("error", (err: NodeJS.ErrnoException) => (err.code === "EPIPE" || err.code === "ECONNRESET" ? undefined : reject(err)));
    req.end(body);
  });
}

/** Raw bytes on a socket; resolves with the status line (or "closed") once the server answers or hangs up. */
function raw(port: number, bytes: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${JSON.stringify(bytes.slice(0, 60))}`));
    }, timeoutMs);
    socket.on("data", (c) => {
      got += c.toString("latin1");
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(got.split("\r\n")[0] || "closed");
    });
    socket.write(bytes, "latin1");
    socket.on("data", () => {
      if (got.includes("\r\n\r\n")) socket.end();
    });
  });
}

describe("admin API: bad input is a 4xx with a clear JSON error", () => {
  let dir: string;
  let app: RunningWasmxds;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "wasmxds-admin-bad-"));
    cpSync(EXAMPLE_CONFIG, dir, { recursive: true });
    app = await startTestApp(dir, { checkModule: async () => ({ ok: true }) });
    port = app.adminAddress!.port;
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["/v1/filters/%E0%A4%A", /malformed percent-encoding in the path "%E0%A4%A"; expected %XX escapes/],
    ["/v1/filters/%ZZ", /malformed percent-encoding in the path "%ZZ"/],
    ["/v1/filters/%FF", /malformed percent-encoding in the path "%FF"/],
    ["/v1/rollouts/%C0%AF", /malformed percent-encoding in the path/],
    ["/v1/events?type=%E0%A4%A", /malformed percent-encoding in the query string "type=%E0%A4%A"/],
    ["/v1/events?after=abc", /^after: expected a non-negative integer$/],
    ["/v1/events?limit=-1", /^limit: expected a positive integer$/],
  ])("GET %s is a 400", async (path, message) => {
    const got = await send(port, "GET", path);
    expect(got.status).toBe(400);
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.json).toMatchObject({ status: 400 });
    expect(got.json?.error).toMatch(message);
  });

  const clear = "/v1/filters/add-header/quarantine/clear";
  const json = { "content-type": "application/json" };

  it.each([
    ["a JSON syntax error", "{", json, 400, /^request body is not valid JSON: /],
    ["a body that is not UTF-8", Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), json, 400, /^request body is not UTF-8 text; expected JSON$/],
    ["a form body", "sha256=abc", { "content-type": "application/x-www-form-urlencoded" }, 415, /expected application\/json \(curl: -H 'content-type: application\/json'\)/],
    ["a field of the wrong type", '{"sha256": 5}', json, 400, /^sha256: expected 8 to 64 lowercase hex characters$/],
  ] as const)("POST with %s is a 4xx", async (_name, body, headers, status, message) => {
    const got = await send(port, "POST", clear, body, headers);
    expect(got.status).toBe(status);
    expect(got.json?.error).toMatch(message);
  });

  it("refuses a body over 1 MiB with 413 and closes the connection", async () => {
    const got = await send(port, "POST", clear, Buffer.alloc(2 * 1024 * 1024, 0x20), json);
    expect(got.status).toBe(413);
    expect(got.headers.connection).toBe("close");
    expect(got.json?.error).toMatch(/expected at most 1048576/);
  });

  it("refuses a declared huge body at once, without waiting for it", async () => {
    const line = await raw(port, `POST ${clear} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{`);
    expect(line).toBe("HTTP/1.1 413 Payload Too Large");
  });

  it.each([
    ["an absolute-form target with a broken host", "GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a target that is not a path", "GET * HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a NUL in the target", "GET /v1/filters/a\0b HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["an unknown method", "BREW /v1 HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["garbage instead of HTTP", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"],
  ])("answers %s with a 4xx, never a 500", async (_name, bytes) => {
    const line = await raw(port, bytes);
    expect(line).toMatch(/^HTTP\/1\.1 4\d\d |^closed$/);
  });

  it("still serves good requests after all of that, and logged no 500", async () => {
    const got = await send(port, "GET", "/v1/filters/add-header");
    expect(got.status).toBe(200);
    const malformed = await send(port, "GET", "/v1/filters/%E0%A4%A");
    expect(malformed.status).toBe(400);
  });
});

describe("admin API: a slow client", () => {
  it("gets 408 when headers or body do not arrive within the request timeout", async () => {
    const router = new AdminRouter().add("POST", "/echo", (req) => ({ json: req.body ?? null }));
    const server = await startAdminServer(router, { host: "127.0.0.1", port: 0 }, memoryLogger(), { requestTimeoutMs: 300 });
    try {
      const t0 = performance.now();
      // Headers complete, body promised but never sent.
      const body = await raw(server.address.port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", 5000);
      // Headers never finished.
      const headers = await raw(server.address.port, "GET /echo HTTP/1.1\r\nHost: x\r\n", 5000);
      expect(body).toMatch(/^HTTP\/1\.1 408 |^closed$/);
      expect(headers).toMatch(/^HTTP\/1\.1 408 |^closed$/);
      expect(performance.now() - t0).toBeLessThan(4000);
      const ok = await send(server.address.port, "POST", "/echo", '{"a":1}', { "content-type": "application/json" });
      expect(ok).toMatchObject({ status: 200, json: { a: 1 } });
    } finally {
      await server.close();
    }
  });
});
