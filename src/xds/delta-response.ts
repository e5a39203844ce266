/**
 * Encodes a DeltaDiscoveryResponse from resources already encoded once by
 * the cache: each Resource entry (name = 3, version = 1, resource = 2) is
 * built once per Resource object and reused by every stream and push that
 * sends it; only the framing around them is made per response.
 * Field numbers: envoy/service/discovery/v3/discovery.proto.
 */
import { lengthDelimited, type Resource, stringField } from "../cache/resource";

const entries = new WeakMap<Resource, Buffer>();

/** `repeated Resource resources = 2` entry of one resource (its responseEntry is the Any at field 2). */
function resourceEntry(r: Resource): Buffer {
  let entry = entries.get(r);
  if (!entry) {
    entry = lengthDelimited(2, Buffer.concat([stringField(3, r.name), stringField(1, r.version), r.responseEntry]));
    entries.set(r, entry);
  }
  return entry;
}

export function encodeDeltaResponse(
  typeUrl: string,
  systemVersion: string,
  updated: readonly Resource[],
  removed: readonly string[],
  nonce: string,
): Buffer {
  return Buffer.concat([
    stringField(1, systemVersion),
    ...updated.map(resourceEntry),
    stringField(4, typeUrl),
    stringField(5, nonce),
    ...removed.map((n) => stringField(6, n)),
  ]);
}
