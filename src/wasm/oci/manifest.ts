/**
 * Manifests as registries serve them (OCI image-spec and Docker schema 2),
 * and which layer holds the module. Two shapes are in use (docs/OCI.md):
 *
 * - the Wasm OCI artifact: one layer of media type
 *   application/vnd.module.wasm.content.layer.v1+wasm (solo.io's spec, which
 *   Istio's WasmPlugin pulls), with its own config type or, in the "compat"
 *   variant, an ordinary image config; `application/wasm` (the CNCF
 *   wasm-artifact spec) is read the same way;
 * - a plain Docker/OCI image (`FROM scratch`, COPY plugin.wasm) whose single
 *   layer is a tar, optionally gzip, holding plugin.wasm or one .wasm file.
 *
 * An index (multi-platform list) resolves to its only manifest, or to the
 * one whose platform architecture is "wasm".
 */
import { ModuleError } from "../../errors";

export const MANIFEST_TYPES = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

/** The Accept header of a manifest GET: every type read here. */
export const MANIFEST_ACCEPT = Object.values(MANIFEST_TYPES).join(", ");

export const WASM_LAYER_TYPES: readonly string[] = ["application/vnd.module.wasm.content.layer.v1+wasm", "application/wasm"];
const TAR_LAYER_TYPES: readonly string[] = [
  "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.diff.tar",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
];

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export type ParsedManifest =
  | { readonly kind: "index"; readonly manifests: ReadonlyArray<Descriptor & { readonly architecture?: string; readonly os?: string }> }
  | { readonly kind: "image"; readonly config?: Descriptor; readonly layers: readonly Descriptor[] };

/** The layer to read the module from and how. */
export type ModuleLayer = { readonly layer: Descriptor; readonly format: "wasm" | "tar" | "tar+gzip" };

const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** Parses a manifest or index body; `where` starts every error message (the reference). */
export function parseManifest(body: Buffer, contentType: string | undefined, where: string): ParsedManifest {
  const bad = (why: string) => new ModuleError("MODULE_INVALID", `${where}: ${why}`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    throw bad("the manifest is not JSON");
  }
  if (!isRecord(json)) throw bad("the manifest is not a JSON object");
  const mediaType = typeof json.mediaType === "string" ? json.mediaType : (contentType?.split(";")[0]?.trim() ?? "");
  if (Array.isArray(json.manifests) || mediaType === MANIFEST_TYPES.ociIndex || mediaType === MANIFEST_TYPES.dockerList) {
    const list = Array.isArray(json.manifests) ? json.manifests : [];
    return {
      kind: "index",
      manifests: list.map((m, i) => {
        const d = descriptor(m, `manifests[${i}]`, bad);
        const platform = isRecord(m) && isRecord(m.platform) ? m.platform : {};
        return {
          ...d,
          ...(typeof platform.architecture === "string" && { architecture: platform.architecture }),
          ...(typeof platform.os === "string" && { os: platform.os }),
        };
      }),
    };
  }
  if (json.schemaVersion !== 2 || !Array.isArray(json.layers)) {
    throw bad(`expected an image manifest (schemaVersion 2 with layers) or an index, got media type ${JSON.stringify(mediaType || "unknown")}`);
  }
  return {
    kind: "image",
    ...(json.config !== undefined && { config: descriptor(json.config, "config", bad) }),
    layers: json.layers.map((l, i) => descriptor(l, `layers[${i}]`, bad)),
  };
}

/** The index entry to follow. */
export function pickFromIndex(index: Extract<ParsedManifest, { kind: "index" }>, where: string): Descriptor {
  const [only] = index.manifests;
  if (index.manifests.length === 1 && only) return only;
  const wasm = index.manifests.filter((m) => m.architecture === "wasm");
  if (wasm.length === 1 && wasm[0]) return wasm[0];
  const platforms = index.manifests.map((m) => `${m.os ?? "?"}/${m.architecture ?? "?"}`).join(", ");
  throw new ModuleError("MODULE_INVALID", `${where}: an index of ${index.manifests.length} manifests (${platforms || "none"}); expected one, or one with architecture wasm`);
}

/** The layer holding the module, by the rules at the top of this file. */
export function pickModuleLayer(manifest: Extract<ParsedManifest, { kind: "image" }>, where: string): ModuleLayer {
  const wasm = manifest.layers.filter((l) => WASM_LAYER_TYPES.includes(l.mediaType));
  const [first] = wasm;
  if (wasm.length === 1 && first) return { layer: first, format: "wasm" };
  if (wasm.length > 1) throw new ModuleError("MODULE_INVALID", `${where}: ${wasm.length} wasm layers; expected exactly one`);
  const [only] = manifest.layers;
  const types = manifest.layers.map((l) => l.mediaType).join(", ") || "none";
  if (manifest.layers.length !== 1 || !only) {
    throw new ModuleError("MODULE_INVALID", `${where}: no wasm layer and ${manifest.layers.length} layers (${types}); expected a wasm layer, or one tar layer holding the .wasm`);
  }
  if (!TAR_LAYER_TYPES.includes(only.mediaType)) {
    throw new ModuleError("MODULE_INVALID", `${where}: layer ${only.digest} has media type ${only.mediaType}; expected ${WASM_LAYER_TYPES[0]} or a tar (optionally gzip) layer`);
  }
  return { layer: only, format: only.mediaType.endsWith("gzip") ? "tar+gzip" : "tar" };
}

function descriptor(v: unknown, path: string, bad: (why: string) => Error): Descriptor {
  if (!isRecord(v)) throw bad(`${path}: expected a descriptor object`);
  const { mediaType, digest, size } = v;
  if (typeof digest !== "string" || !DIGEST.test(digest)) throw bad(`${path}.digest: expected sha256:<64 hex>, got ${JSON.stringify(digest)}`);
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw bad(`${path}.size: expected a byte count, got ${JSON.stringify(size)}`);
  return { mediaType: typeof mediaType === "string" ? mediaType : "", digest, size };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
