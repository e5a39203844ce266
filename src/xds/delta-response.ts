/**
 * Encodes a DeltaDiscoveryResponse from resources already encoded once by
 * the cache: each Resource entry (name = 3, version = 1, resource = 2) is
 * built once per Resource object, and the body without its nonce once per
 * distinct (type snapshot, difference), with a nonce: in a push, every
 * stream that held the same versions is sent the same difference, so a
 * fleet is written one buffer, exactly as state-of-the-world bodies are
 * shared (shared-response.ts: same nonce rules, a stream takes a shared
 * response only if it is newer than the last shared one it took, else a
 * copy with a nonce of its own). Bodies are kept per type snapshot, at most
 * MAX_BODIES of them, and go with it.
 * Field numbers: envoy/service/discovery/v3/discovery.proto.
 */
import { lengthDelimited, type Resource, stringField } from "../cache/resource";
import type { TypeSnapshot } from "../cache/snapshot";
import type { ResourceDiff } from "./resource-versions";
import { type SharedResponse, sharedBody } from "./shared-response";

const entries = new WeakMap<Resource, Buffer>();
const bodies = new WeakMap<TypeSnapshot, Map<string, SharedResponse & { readonly body: Buffer }>>();
/** Distinct differences kept per type snapshot (streams that fell behind differently get their own). */
const MAX_BODIES = 64;

/** `repeated Resource resources = 2` entry of one resource (its responseEntry is the Any at field 2). */
function resourceEntry(r: Resource): Buffer {
  let entry = entries.get(r);
  if (!entry) {
    entry = lengthDelimited(2, Buffer.concat([stringField(3, r.name), stringField(1, r.version), r.responseEntry]));
    entries.set(r, entry);
  }
  return entry;
}

function encodeBody(typeUrl: string, diff: ResourceDiff): Buffer {
  return Buffer.concat([stringField(1, diff.version), ...diff.updated.map(resourceEntry), stringField(4, typeUrl), ...diff.removed.map((n) => stringField(6, n))]);
}

/** The shared response for `diff` on `type` (its body, and the body with a shared nonce). */
export function deltaResponse(type: TypeSnapshot, diff: ResourceDiff): SharedResponse & { readonly body: Buffer } {
  let cache = bodies.get(type);
  if (!cache) {
    cache = new Map();
    bodies.set(type, cache);
  }
  // Resources are the cache's objects, so name and version identify each; the selection's version closes the key.
  const key = `${diff.version}|${diff.updated.map((r) => `${r.name}\0${r.version}`).join("\n")}|${diff.removed.join("\n")}`;
  let shared = cache.get(key);
  if (!shared) {
    const body = encodeBody(type.typeUrl, diff);
    shared = { ...sharedBody(body), body };
    if (cache.size >= MAX_BODIES) cache.delete(cache.keys().next().value as string);
    cache.set(key, shared);
  }
  return shared;
}
