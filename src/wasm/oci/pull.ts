/**
 * One pull: reference -> manifest (through an index if need be) -> the
 * module's layer -> the module. Every object is checked against the digest
 * that names it — the pinned digest or the registry's Docker-Content-Digest
 * for the manifest, the index entry's digest for a child manifest, the
 * manifest's descriptor (digest and size) for the layer — so a registry or
 * a proxy in between cannot hand over other bytes than the ones named.
 */
import { createHash } from "node:crypto";
import { ModuleError } from "../../errors";
import { moduleFromLayer } from "./layer";
import { type Descriptor, MANIFEST_ACCEPT, type ParsedManifest, parseManifest, pickFromIndex, pickModuleLayer } from "./manifest";
import { type OciReference, manifestReference } from "../../vocabulary/oci-reference";
import type { RegistryClient } from "./registry-client";

/** distribution's own limit on a manifest PUT is 4 MiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface ResolvedManifest {
  /** The digest the reference resolves to (what a tag points at). */
  readonly digest: string;
  readonly image: Extract<ParsedManifest, { kind: "image" }>;
}

export interface PulledModule {
  readonly bytes: Buffer;
  readonly layer: Descriptor;
}

/** GETs the manifest the reference names and follows an index to its image manifest. */
export async function resolveManifest(client: RegistryClient, ref: OciReference): Promise<ResolvedManifest> {
  const top = await getManifest(client, ref, manifestReference(ref), ref.digest);
  if (top.parsed.kind === "image") return { digest: top.digest, image: top.parsed };
  const entry = pickFromIndex(top.parsed, ref.text);
  const child = await getManifest(client, ref, entry.digest, entry.digest);
  if (child.parsed.kind !== "image") throw new ModuleError("MODULE_INVALID", `${ref.text}: index entry ${entry.digest} is another index; expected an image manifest`);
  return { digest: top.digest, image: child.parsed };
}

/** Downloads the module's layer, verifies it and extracts the module. */
export async function pullModule(client: RegistryClient, ref: OciReference, image: ResolvedManifest["image"], maxBytes: number): Promise<PulledModule> {
  const { layer, format } = pickModuleLayer(image, ref.text);
  if (layer.size > maxBytes) {
    throw new ModuleError("MODULE_TOO_LARGE", `${ref.text}: layer ${layer.digest} is ${layer.size} bytes, over the ${maxBytes}-byte limit (server.maxModuleBytes)`);
  }
  const { body } = await client.get(`blobs/${layer.digest}`, undefined, maxBytes, `layer ${layer.digest}`);
  const actual = digestOf(body, layer.digest);
  if (actual !== layer.digest || body.length !== layer.size) {
    throw new ModuleError("MODULE_HASH_MISMATCH", `${ref.text}: layer ${layer.digest} (${layer.size} bytes) arrived as ${actual} (${body.length} bytes)`);
  }
  return { bytes: await moduleFromLayer(body, format, maxBytes, `${ref.text}: layer ${layer.digest}`), layer };
}

async function getManifest(client: RegistryClient, ref: OciReference, reference: string, expected: string | undefined): Promise<{ digest: string; parsed: ParsedManifest }> {
  const what = `manifest ${reference}`;
  const { body, headers } = await client.get(`manifests/${reference}`, MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, what);
  const claimed = headers["docker-content-digest"];
  const digest = digestOf(body, expected ?? (typeof claimed === "string" ? claimed : "sha256:"));
  if (expected !== undefined && digest !== expected) {
    throw new ModuleError("MODULE_HASH_MISMATCH", `${ref.text}: ${what} digest mismatch: expected ${expected}, the registry sent ${digest}`);
  }
  if (typeof claimed === "string" && claimed.split(":")[0] === digest.split(":")[0] && claimed !== digest) {
    throw new ModuleError("MODULE_HASH_MISMATCH", `${ref.text}: ${what} digest mismatch: the registry says ${claimed}, the bytes are ${digest}`);
  }
  return { digest, parsed: parseManifest(body, typeof headers["content-type"] === "string" ? headers["content-type"] : undefined, `${ref.text}: ${what}`) };
}

/** The digest of `bytes` in the algorithm of `like` (sha256 or sha512; sha256 otherwise). */
export function digestOf(bytes: Uint8Array, like: string): string {
  const algorithm = like.startsWith("sha512:") ? "sha512" : "sha256";
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}
