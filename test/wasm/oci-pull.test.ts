/**
 * Pulling modules from a real registry (Debian's docker-registry, started
 * here): every image shape in use, by tag and by digest, verified against
 * the registry's digests and the filter's sha256, with clear errors.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModuleStore } from "../../src/wasm/module-store";
import { OciResolver, type OciSource } from "../../src/wasm/oci";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { SKIP_REASON, type TestRegistry, indexOf, registryAvailable, startRegistry, tarImage, wasmArtifact, digest } from "../helpers/oci-registry";
import { fixture, variant } from "../helpers/wasm-bytes";

const good = fixture("good_http");
const other = variant(good, "oci-other");
const allow = { allowPrivateFetch: true };

if (!registryAvailable) console.warn(`skipping OCI registry tests: ${SKIP_REASON}`);

describe.skipIf(!registryAvailable)("oci:// pulls from a real registry", () => {
  let registry: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    registry = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), "wasmxds-oci-"));
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const source = (reference: string, extra: Partial<OciSource> = {}): OciSource => ({ reference, pullPolicy: "IfNotPresent", insecure: true, ...extra });
  const fresh = async () => {
    const store = new ModuleStore();
    return { store, resolver: await OciResolver.open({ store }) };
  };

  it.each([
    ["the Wasm OCI artifact", () => wasmArtifact(good)],
    ["the compat variant (image config, wasm layer)", () => wasmArtifact(good, { compat: true })],
    ["the CNCF artifact (application/wasm layer)", () => wasmArtifact(good, { layerType: "application/wasm" })],
    ["a Docker image, gzip tar holding plugin.wasm", () => tarImage({ "plugin.wasm": good, "README.md": Buffer.from("hi") })],
    ["an OCI image, plain tar holding the only .wasm", () => tarImage({ "./filters/auth.wasm": good, "etc/x": Buffer.from("x") }, { gzip: false, format: "oci" })],
    ["a tar holding plugin.wasm beside other .wasm files", () => tarImage({ "a.wasm": other, "plugin.wasm": good })],
    ["an index whose wasm platform entry is the artifact", async () => indexOf([{ image: await tarImage({ "x.wasm": other }), os: "linux", architecture: "amd64" }, { image: wasmArtifact(good), os: "wasip1", architecture: "wasm" }])],
  ])("%s, by tag and by digest", async (_name, make) => {
    const built = await make();
    const repo = `shapes/s${Math.random().toString(36).slice(2, 8)}`;
    const manifestDigest = await registry.push(repo, built, "v1");
    const { store, resolver } = await fresh();
    const byTag = await resolver.resolve(source(`oci://${registry.host}/${repo}:v1`), allow);
    expect(byTag).toEqual({ sha256: sha256Hex(good), size: good.length, manifestDigest });
    expect(store.get(byTag.sha256)?.equals(good)).toBe(true);
    const byDigest = await (await fresh()).resolver.resolve(source(`oci://${registry.host}/${repo}@${manifestDigest}`), allow);
    expect(byDigest.sha256).toBe(sha256Hex(good));
  });

  it("the filter's sha256 is checked against the module itself", async () => {
    await registry.push("pin/a", wasmArtifact(good), "v1");
    const ref = `oci://${registry.host}/pin/a:v1`;
    const { resolver, store } = await fresh();
    expect((await resolver.resolve(source(ref, { sha256: sha256Hex(good) }), allow)).sha256).toBe(sha256Hex(good));
    const wrong = sha256Hex(other);
    await expect((await fresh()).resolver.resolve(source(ref, { sha256: wrong }), allow)).rejects.toMatchObject({
      code: "MODULE_HASH_MISMATCH",
      message: expect.stringMatching(new RegExp(`^${ref}: sha256 mismatch: the filter expects ${wrong}, the module in sha256:[0-9a-f]{64} is ${sha256Hex(good)}$`)),
    });
    expect(store.list()).toHaveLength(1);
  });

  it("a digest the registry does not hold, a missing tag and a missing repository are named", async () => {
    await registry.push("missing/a", wasmArtifact(good), "v1");
    const { resolver } = await fresh();
    const absent = digest(Buffer.from("nothing"));
    await expect(resolver.resolve(source(`oci://${registry.host}/missing/a:v2`), allow)).rejects.toMatchObject({
      code: "MODULE_FETCH_FAILED",
      message: expect.stringMatching(/^oci:\/\/127\.0\.0\.1:\d+\/missing\/a:v2: HTTP 404 Not Found \(manifest v2 not found in 127\.0\.0\.1:\d+\/missing\/a\): MANIFEST_UNKNOWN/),
    });
    await expect(resolver.resolve(source(`oci://${registry.host}/missing/a@${absent}`), allow)).rejects.toThrow(`manifest ${absent} not found`);
    await expect(resolver.resolve(source(`oci://${registry.host}/nobody/here:v1`), allow)).rejects.toThrow(/nobody\/here:v1: HTTP 404 Not Found \(manifest v1 not found in 127\.0\.0\.1:\d+\/nobody\/here\)/);
  });

  it("a layer that is not wasm, a tar without a .wasm, and a tar with two are refused", async () => {
    const { resolver } = await fresh();
    await registry.push("bad/text", wasmArtifact(Buffer.from("#!/bin/sh\necho not wasm\n")), "v1");
    await expect(resolver.resolve(source(`oci://${registry.host}/bad/text:v1`), allow)).rejects.toMatchObject({
      code: "MODULE_INVALID",
      message: expect.stringMatching(/bad\/text:v1: layer sha256:[0-9a-f]+: the layer is not a wasm module \(it starts with 0x23212f62; expected the magic 0x0061736d\)$/),
    });
    await registry.push("bad/none", await tarImage({ "etc/passwd": Buffer.from("root") }), "v1");
    await expect(resolver.resolve(source(`oci://${registry.host}/bad/none:v1`), allow)).rejects.toThrow("the layer holds no .wasm file; expected plugin.wasm or a single .wasm file");
    await registry.push("bad/two", await tarImage({ "a.wasm": good, "b.wasm": other }), "v1");
    await expect(resolver.resolve(source(`oci://${registry.host}/bad/two:v1`), allow)).rejects.toThrow("the layer holds 2 .wasm files (a.wasm, b.wasm)");
  });

  it("a layer over server.maxModuleBytes is refused before it is downloaded; an expanding tar is cut off", async () => {
    const { resolver } = await fresh();
    await registry.push("big/a", wasmArtifact(good), "v1");
    await expect(resolver.resolve(source(`oci://${registry.host}/big/a:v1`), { allowPrivateFetch: true, maxBytes: 100 })).rejects.toMatchObject({
      code: "MODULE_TOO_LARGE",
      message: expect.stringMatching(new RegExp(`big/a:v1: layer sha256:[0-9a-f]+ is ${good.length} bytes, over the 100-byte limit \\(server.maxModuleBytes\\)$`)),
    });
    // 1 MiB of zeros gzips to about 1 KiB: under the cap as a layer, over it once expanded.
    await registry.push("big/bomb", await tarImage({ "pad.bin": Buffer.alloc(1024 * 1024), "plugin.wasm": good }), "v1");
    await expect(resolver.resolve(source(`oci://${registry.host}/big/bomb:v1`), { allowPrivateFetch: true, maxBytes: 64 * 1024 })).rejects.toMatchObject({
      code: "MODULE_TOO_LARGE",
      message: expect.stringContaining("the layer expands to over 262144 bytes"),
    });
  });

  it("the registry must be allowed by the SSRF guard, and plain http needs insecure", async () => {
    await registry.push("guard/a", wasmArtifact(good), "v1");
    const ref = `oci://${registry.host}/guard/a:v1`;
    const { resolver } = await fresh();
    await expect(resolver.resolve(source(ref), { allowPrivateFetch: false })).rejects.toThrow(
      `${ref}: https://${registry.host}/v2/guard/a/manifests/v1: 127.0.0.1 is a loopback address; set server.allowPrivateFetch: true to fetch from it`,
    );
    await expect(resolver.resolve(source(ref, { insecure: false }), allow)).rejects.toMatchObject({
      code: "MODULE_FETCH_FAILED",
      message: expect.stringMatching(new RegExp(`^${ref}: ${registry.host} unreachable: .*(SSL|ssl|wrong version|EPROTO)`)),
    });
  });
});
