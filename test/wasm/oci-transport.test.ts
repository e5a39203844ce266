/**
 * How pulls travel: https to a registry with a private CA, plain http only
 * with insecure, digests checked against what arrives (a tampering proxy in
 * front of the real registry), and credentials kept from other origins.
 */
import { type IncomingHttpHeaders, type Server, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModuleStore } from "../../src/wasm/module-store";
import { OciResolver, type OciSource } from "../../src/wasm/oci";
import { guardedGet } from "../../src/wasm/guarded-get";
import { realClock } from "../../src/time/clock";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { type TestCa, makeCa } from "../helpers/certificates";
import { SKIP_REASON, type TestRegistry, registryAvailable, startRegistry, wasmArtifact } from "../helpers/oci-registry";
import { fixture, variant } from "../helpers/wasm-bytes";

const good = fixture("good_http");
const allow = { allowPrivateFetch: true };

if (!registryAvailable) console.warn(`skipping OCI registry tests: ${SKIP_REASON}`);

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server | undefined): Promise<void> {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
}

it("the Authorization header is not sent on a redirect to another origin (blob storage)", async () => {
  const seen: IncomingHttpHeaders[] = [];
  const storage = createServer((req, res) => {
    seen.push(req.headers);
    res.end("blob");
  });
  const storageHost = await listen(storage);
  const registry = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(307, { location: `http://${storageHost}/bucket/blob` }).end();
  });
  const registryHost = await listen(registry);
  try {
    const response = await guardedGet(new URL(`http://${registryHost}/v2/x/blobs/sha256:0`), { insecure: true, allowPrivateFetch: true, connectTimeoutMs: 5000, clock: realClock }, AbortSignal.timeout(5000), {
      authorization: "Bearer secret-token",
      accept: "*/*",
    });
    response.resume();
    expect(seen[0]?.authorization).toBe("Bearer secret-token");
    expect(seen[1]?.authorization).toBeUndefined();
    expect(seen[1]?.accept).toBe("*/*");
  } finally {
    await close(storage);
    await close(registry);
  }
});

describe.skipIf(!registryAvailable)("registry transport", () => {
  let ca: TestCa;
  let tlsRegistry: TestRegistry;
  let plainRegistry: TestRegistry;
  let proxy: Server | undefined;
  let tamper: "none" | "manifest" | "blob" | "cut" = "none";
  /** What went through the proxy: "GET manifests", "HEAD manifests", "GET blobs", ... */
  const seen: string[] = [];
  let proxyHost: string;
  beforeAll(async () => {
    ca = await makeCa("wasmxds registry CA");
    [tlsRegistry, plainRegistry] = await Promise.all([startRegistry({ tlsCa: ca }), startRegistry()]);
    await tlsRegistry.push("tls/a", wasmArtifact(good), "v1");
    // A proxy in front of the plain registry that alters what it forwards when told to.
    proxy = createServer((req, res) => {
      const kind = /\/(manifests|blobs)\//.exec(req.url ?? "")?.[1];
      if (kind) seen.push(`${req.method} ${kind}`);
      const up = request(`http://${plainRegistry.host}${req.url}`, { method: req.method, headers: req.headers }, (upRes) => {
        const chunks: Buffer[] = [];
        upRes.on("data", (c: Buffer) => chunks.push(c));
        upRes.on("end", () => {
          let body = Buffer.concat(chunks);
          const isBlob = req.url?.includes("/blobs/") ?? false;
          if ((tamper === "blob" && isBlob) || (tamper === "manifest" && req.url?.includes("/manifests/"))) {
            body = Buffer.from(body);
            if (isBlob) body.writeUInt8((body.at(-1) ?? 0) ^ 1, body.length - 1);
            else body = Buffer.from(body.toString().replace('"schemaVersion":2', '"schemaVersion": 2'));
          }
          res.writeHead(upRes.statusCode ?? 502, { ...upRes.headers, "content-length": String(body.length) });
          if (tamper === "cut" && isBlob) {
            // Half the layer, then the connection drops.
            res.write(body.subarray(0, body.length >> 1), () => res.destroy());
            return;
          }
          res.end(body);
        });
      });
      up.on("error", () => res.writeHead(502).end());
      req.pipe(up);
    });
    proxyHost = await listen(proxy);
  });
  afterAll(async () => {
    await close(proxy);
    await Promise.all([tlsRegistry?.stop(), plainRegistry?.stop()]);
  });

  const pull = async (reference: string, extra: Partial<OciSource> = {}, ca?: string) => {
    const resolver = await OciResolver.open({ store: new ModuleStore(), ...(ca && { ca }) });
    return resolver.resolve({ reference, pullPolicy: "IfNotPresent", insecure: false, ...extra }, allow);
  };

  it("https by default: a registry with a private CA is pulled when the CA is trusted, refused naming the certificate otherwise", async () => {
    const ref = `oci://${tlsRegistry.host}/tls/a:v1`;
    expect((await pull(ref, {}, ca.cert)).sha256).toBe(sha256Hex(good));
    await expect(pull(ref)).rejects.toThrow(new RegExp(`^${ref}: ${tlsRegistry.host} unreachable: .*(certificate|self-signed|issuer)`, "i"));
  });

  it("insecure: true still speaks https to a registry that has it, and plain http to one that has not", async () => {
    expect((await pull(`oci://${tlsRegistry.host}/tls/a:v1`, { insecure: true }, ca.cert)).sha256).toBe(sha256Hex(good));
    await plainRegistry.push("plain/a", wasmArtifact(good), "v1");
    expect((await pull(`oci://${plainRegistry.host}/plain/a:v1`, { insecure: true })).sha256).toBe(sha256Hex(good));
  });

  it("Always asks with one HEAD while the tag has not moved, and downloads only when it has", async () => {
    await plainRegistry.push("always/a", wasmArtifact(good), "v1");
    const resolver = await OciResolver.open({ store: new ModuleStore() });
    const source: OciSource = { reference: `oci://${proxyHost}/always/a:v1`, pullPolicy: "Always", insecure: true };
    seen.length = 0;
    expect((await resolver.resolve(source, allow)).sha256).toBe(sha256Hex(good));
    expect(seen).toEqual(["GET manifests", "GET blobs"]);
    seen.length = 0;
    expect((await resolver.resolve(source, allow)).sha256).toBe(sha256Hex(good));
    expect(seen).toEqual(["HEAD manifests"]);
    const moved = variant(good, "moved");
    await plainRegistry.push("always/a", wasmArtifact(moved), "v1");
    seen.length = 0;
    expect((await resolver.resolve(source, allow)).sha256).toBe(sha256Hex(moved));
    expect(seen).toEqual(["HEAD manifests", "GET manifests", "GET blobs"]);
  });

  it("digests are checked against the bytes: a tampered layer, a tampered manifest, a pinned digest the bytes do not match; a layer cut short is named", async () => {
    const digest = await plainRegistry.push("tamper/a", wasmArtifact(good), "v1");
    const ref = `oci://${proxyHost}/tamper/a:v1`;
    try {
      tamper = "blob";
      await expect(pull(ref, { insecure: true })).rejects.toMatchObject({
        code: "MODULE_HASH_MISMATCH",
        message: expect.stringMatching(new RegExp(`^${ref}: layer (sha256:[0-9a-f]{64}) \\(${good.length} bytes\\) arrived as sha256:[0-9a-f]{64} \\(${good.length} bytes\\)$`)),
      });
      tamper = "manifest";
      await expect(pull(ref, { insecure: true })).rejects.toMatchObject({
        code: "MODULE_HASH_MISMATCH",
        message: expect.stringMatching(new RegExp(`^${ref}: manifest v1 digest mismatch: the registry says ${digest}, the bytes are sha256:[0-9a-f]{64}$`)),
      });
      const pinned = `oci://${proxyHost}/tamper/a@${digest}`;
      await expect(pull(pinned, { insecure: true })).rejects.toMatchObject({
        code: "MODULE_HASH_MISMATCH",
        message: expect.stringMatching(new RegExp(`^${pinned}: manifest ${digest} digest mismatch: expected ${digest}, the registry sent sha256:`)),
      });
      tamper = "cut";
      await expect(pull(ref, { insecure: true })).rejects.toMatchObject({
        code: "MODULE_FETCH_FAILED",
        message: expect.stringMatching(new RegExp(`^${ref}: layer sha256:[0-9a-f]{64}: `)),
      });
      tamper = "none";
      expect((await pull(pinned, { insecure: true })).sha256).toBe(sha256Hex(good));
    } finally {
      tamper = "none";
    }
  });
});
