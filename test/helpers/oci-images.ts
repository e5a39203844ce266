/**
 * OCI images for the registry tests (docs/OCI.md, "Image shapes"): the Wasm
 * OCI artifact and its compat variant, plain Docker/OCI images with a tar
 * layer, and indexes, as manifests plus the blobs they name, ready for
 * `TestRegistry.push` (test/helpers/oci-registry.ts).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";

export const WASM_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm";
export const WASM_CONFIG = "application/vnd.module.wasm.config.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

export interface Blob {
  readonly mediaType: string;
  readonly bytes: Buffer;
}

/** A manifest and the blobs it names. */
export interface Image {
  readonly mediaType: string;
  readonly manifest: Buffer;
  readonly blobs: readonly Blob[];
  /** Images an index names, pushed (by digest) before it. */
  readonly children?: readonly Image[];
}

export function digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

const desc = (b: Blob, extra: Record<string, unknown> = {}) => ({ mediaType: b.mediaType, digest: digest(b.bytes), size: b.bytes.length, ...extra });

/** The Wasm OCI artifact: a wasm config and one wasm layer; `compat: true` gives it an ordinary image config instead. */
export function wasmArtifact(module: Buffer, options: { compat?: boolean; layerType?: string } = {}): Image {
  const layer = { mediaType: options.layerType ?? WASM_LAYER, bytes: module };
  const config = options.compat
    ? { mediaType: "application/vnd.oci.image.config.v1+json", bytes: Buffer.from(JSON.stringify({ architecture: "wasm", os: "wasip1", rootfs: { type: "layers", diff_ids: [digest(module)] } })) }
    : { mediaType: WASM_CONFIG, bytes: Buffer.from(JSON.stringify({ created: "2026-01-01T00:00:00Z", type: "envoy_proxy", abiVersions: ["v0-097b7f2e4cc1fb490cc1943d0d633655ac3c522f"] })) };
  const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: desc(config), layers: [desc(layer, { annotations: { "org.opencontainers.image.title": "plugin.wasm" } })] };
  return { mediaType: OCI_MANIFEST, manifest: Buffer.from(JSON.stringify(manifest)), blobs: [config, layer] };
}

/** A tar of `files` (name -> bytes). */
export async function tarOf(files: Record<string, Buffer>): Promise<Buffer> {
  const p = pack();
  for (const [name, bytes] of Object.entries(files)) p.entry({ name, size: bytes.length, mode: 0o644 }, bytes);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** A plain image (FROM scratch + COPY): one tar layer holding `files`; Docker schema 2 or OCI, gzip or not. */
export async function tarImage(files: Record<string, Buffer>, options: { gzip?: boolean; format?: "docker" | "oci" } = {}): Promise<Image> {
  const tar = await tarOf(files);
  const gzip = options.gzip ?? true;
  const docker = (options.format ?? "docker") === "docker";
  const layer = {
    mediaType: docker ? `application/vnd.docker.image.rootfs.diff.tar${gzip ? ".gzip" : ""}` : `application/vnd.oci.image.layer.v1.tar${gzip ? "+gzip" : ""}`,
    bytes: gzip ? gzipSync(tar) : tar,
  };
  const config = {
    mediaType: docker ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json",
    bytes: Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [digest(tar)] } })),
  };
  const mediaType = docker ? DOCKER_MANIFEST : OCI_MANIFEST;
  const manifest = { schemaVersion: 2, mediaType, config: desc(config), layers: [desc(layer)] };
  return { mediaType, manifest: Buffer.from(JSON.stringify(manifest)), blobs: [config, layer] };
}

/** An OCI index naming `images` with their platforms. */
export function indexOf(images: ReadonlyArray<{ image: Image; os: string; architecture: string }>): Image {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: images.map((i) => ({ mediaType: i.image.mediaType, digest: digest(i.image.manifest), size: i.image.manifest.length, platform: { os: i.os, architecture: i.architecture } })),
  };
  return { mediaType: OCI_INDEX, manifest: Buffer.from(JSON.stringify(manifest)), blobs: [], children: images.map((i) => i.image) };
}
