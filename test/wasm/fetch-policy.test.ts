/** The SSRF guard's config switch: server.allowPrivateFetch parses, and the resolver applies it per call. */
import { createHash } from "node:crypto";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { ModuleStore } from "../../src/wasm/module-store";
import { RemoteModuleResolver } from "../../src/wasm/remote-fetch";
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
    const resolver = new RemoteModuleResolver(new ModuleStore(), { retries: 0 });
    await expect(resolver.resolve(url, sha256)).rejects.toMatchObject({
      code: "MODULE_FETCH_FAILED",
      message: `${url}: 127.0.0.1 is a loopback address; set server.allowPrivateFetch: true to fetch from it`,
    });
    expect(await resolver.resolve(url, sha256, { allowPrivateFetch: true })).toEqual({ sha256, size: body.length });
  });
});
