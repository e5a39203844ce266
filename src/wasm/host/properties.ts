/**
 * Properties for proxy_get_property / proxy_set_property. A property path is
 * a list of segments joined by NUL bytes on the wire (e.g. `node\0id`), as
 * the SDKs serialize it for Envoy's attribute lookup. Values are encoded the
 * way Envoy serializes scalar attributes: strings as raw bytes, integers as
 * 8-byte little-endian int64, booleans as one byte.
 */
export type PropertyValue = string | Uint8Array | number | bigint | boolean;

const encoder = new TextEncoder();

export function encodePropertyValue(value: PropertyValue): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return encoder.encode(value);
  if (typeof value === "boolean") return Uint8Array.of(value ? 1 : 0);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(value), true);
  return out;
}

/** Wire path from a dotted or already NUL-separated path; trailing NULs are dropped. */
export function normalizePath(path: string): string {
  const wire = path.includes("\0") ? path : path.split(".").join("\0");
  return wire.replace(/\0+$/, "");
}

export class PropertyStore {
  private readonly values = new Map<string, Uint8Array>();

  /** `initial` keys are dotted (`node.id`) or NUL-separated paths. */
  constructor(initial: Readonly<Record<string, PropertyValue>> = {}) {
    for (const [k, v] of Object.entries(initial)) this.values.set(normalizePath(k), encodePropertyValue(v));
  }

  get(path: string): Uint8Array | undefined {
    return this.values.get(normalizePath(path));
  }

  set(path: string, value: PropertyValue): void {
    this.values.set(normalizePath(path), encodePropertyValue(value));
  }
}
