/**
 * The proxy-wasm serialized header pairs format, as proxy-wasm-cpp-host
 * writes it (include/proxy-wasm/exports.h pairsSize/marshalPairs) and reads
 * it (src/exports.cc toPairs):
 *
 *   u32 count, then count × (u32 key length, u32 value length),
 *   then for each pair: key bytes, 0, value bytes, 0    (all little-endian)
 */
export type HeaderPair = readonly [string, string];

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

export function encodePairs(pairs: readonly HeaderPair[]): Uint8Array {
  const encoded = pairs.map(([k, v]) => [encoder.encode(k), encoder.encode(v)] as const);
  let size = 4;
  for (const [k, v] of encoded) size += 8 + k.length + 1 + v.length + 1;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, encoded.length, true);
  let p = 4;
  for (const [k, v] of encoded) {
    dv.setUint32(p, k.length, true);
    dv.setUint32(p + 4, v.length, true);
    p += 8;
  }
  for (const [k, v] of encoded) {
    out.set(k, p);
    p += k.length + 1; // the terminating 0 is already there
    out.set(v, p);
    p += v.length + 1;
  }
  return out;
}

/**
 * Decodes serialized pairs. Malformed input (a count or lengths that run
 * past the end) yields no pairs, as toPairs does for a short buffer; unlike
 * toPairs this also bounds-checks the strings instead of over-reading.
 */
export function decodePairs(data: Uint8Array): [string, string][] {
  if (data.length < 4) return [];
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = dv.getUint32(0, true);
  if (4 + count * 8 > data.length) return [];
  const lengths: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    lengths.push([dv.getUint32(4 + i * 8, true), dv.getUint32(8 + i * 8, true)]);
  }
  const out: [string, string][] = [];
  let p = 4 + count * 8;
  for (const [kl, vl] of lengths) {
    if (p + kl + 1 + vl + 1 > data.length) return [];
    const key = decoder.decode(data.subarray(p, p + kl));
    p += kl + 1;
    const value = decoder.decode(data.subarray(p, p + vl));
    p += vl + 1;
    out.push([key, value]);
  }
  return out;
}
