/**
 * A resource as the cache holds it: encoded once, when it is created, and
 * shared by every snapshot and stream that serves it. Its version is a hash of
 * its bytes, so an unchanged resource keeps its version across snapshots (the
 * per-resource versions delta xDS needs).
 */
import { createHash } from "node:crypto";
import { SnapshotError, errorMessage } from "../errors";
import { encodeMessage, messageNameOf } from "../proto/registry";

export interface Resource {
  readonly typeUrl: string;
  readonly name: string;
  /** Content hash of `bytes` (16 hex chars). */
  readonly version: string;
  /** The encoded message. */
  readonly bytes: Buffer;
  /**
   * The encoded `repeated google.protobuf.Any resources = 2` entry of a
   * DiscoveryResponse (tag, length, Any{type_url, value}), ready to be
   * concatenated into a response without encoding anything again.
   */
  readonly responseEntry: Buffer;
  /** The plain message this resource was built from (snake_case fields). */
  readonly message: Readonly<Record<string, unknown>>;
}

/** A resource before encoding: what builders and API callers hand the cache. */
export interface ResourceInput {
  readonly name: string;
  readonly message: Record<string, unknown>;
}

/** Encodes a resource once. Throws SnapshotError naming the resource when the message does not fit its type. */
export function makeResource(typeUrl: string, input: ResourceInput): Resource {
  let bytes: Buffer;
  try {
    bytes = encodeMessage(messageNameOf(typeUrl), input.message);
  } catch (err) {
    throw new SnapshotError("SNAPSHOT_INVALID", `${messageNameOf(typeUrl)} "${input.name}": ${errorMessage(err)}`, {
      cause: err,
    });
  }
  const version = createHash("sha256").update(typeUrl).update("\0").update(bytes).digest("hex").slice(0, 16);
  return Object.freeze({
    typeUrl,
    name: input.name,
    version,
    bytes,
    responseEntry: encodeAnyEntry(2, typeUrl, bytes),
    message: Object.freeze(input.message),
  });
}

/** Protobuf wire helpers: just enough to frame length-delimited fields. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** A length-delimited field (wire type 2). */
export function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
}

/** A string field. */
export function stringField(field: number, value: string): Buffer {
  return lengthDelimited(field, Buffer.from(value, "utf8"));
}

/** Field `field` holding google.protobuf.Any { type_url = 1, value = 2 }. */
export function encodeAnyEntry(field: number, typeUrl: string, value: Buffer): Buffer {
  return lengthDelimited(field, Buffer.concat([stringField(1, typeUrl), lengthDelimited(2, value)]));
}
