/**
 * An HTTP header map with Envoy's semantics for the proxy-wasm calls
 * (source/extensions/common/wasm/context.cc): keys are lower-cased on the
 * way in, `get` returns the first value of a repeated header, `replace`
 * (setCopy) leaves one entry with the new value, `setPairs` replaces the
 * whole map, and `byteSize` is the sum of key and value lengths, which is
 * what proxy_get_header_map_size reports.
 */
import type { HeaderPair } from "./pairs";

export type HeaderInput = Iterable<HeaderPair> | Readonly<Record<string, string>>;

const encoder = new TextEncoder();

function isIterable(input: HeaderInput): input is Iterable<HeaderPair> {
  return typeof (input as Partial<Iterable<HeaderPair>>)[Symbol.iterator] === "function";
}

export class HeaderMap {
  private entries: [string, string][] = [];

  static from(input?: HeaderInput): HeaderMap {
    const map = new HeaderMap();
    if (input === undefined) return map;
    const pairs = isIterable(input) ? input : Object.entries(input);
    for (const [k, v] of pairs) map.add(k, v);
    return map;
  }

  get size(): number {
    return this.entries.length;
  }

  get(key: string): string | undefined {
    const k = key.toLowerCase();
    return this.entries.find((e) => e[0] === k)?.[1];
  }

  getAll(key: string): string[] {
    const k = key.toLowerCase();
    return this.entries.filter((e) => e[0] === k).map((e) => e[1]);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  add(key: string, value: string): void {
    this.entries.push([key.toLowerCase(), value]);
  }

  replace(key: string, value: string): void {
    const k = key.toLowerCase();
    const first = this.entries.findIndex((e) => e[0] === k);
    if (first < 0) {
      this.entries.push([k, value]);
      return;
    }
    this.entries = this.entries.filter((e, i) => i <= first || e[0] !== k);
    this.entries[first] = [k, value];
  }

  remove(key: string): void {
    const k = key.toLowerCase();
    this.entries = this.entries.filter((e) => e[0] !== k);
  }

  setPairs(pairs: Iterable<HeaderPair>): void {
    this.entries = [];
    for (const [k, v] of pairs) this.add(k, v);
  }

  pairs(): HeaderPair[] {
    return this.entries.map((e) => [e[0], e[1]] as const);
  }

  byteSize(): number {
    let n = 0;
    for (const [k, v] of this.entries) n += encoder.encode(k).length + encoder.encode(v).length;
    return n;
  }

  /** Repeated headers joined with ", " (for assertions and display). */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.entries) out[k] = out[k] === undefined ? v : `${out[k]}, ${v}`;
    return out;
  }
}
