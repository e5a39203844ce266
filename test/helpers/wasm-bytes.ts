/** Module byte helpers for tests and benchmarks. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES = join(import.meta.dirname, "../fixtures/modules");
export const EXAMPLE_CONFIG = join(import.meta.dirname, "../../config");

export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, `${name}.wasm`));
}

/**
 * The same module with a custom section appended: new bytes and sha256,
 * identical behaviour (engines ignore unknown custom sections).
 */
export function variant(bytes: Uint8Array, tag: string): Buffer {
  const name = Buffer.from("wasmxds-variant");
  const payload = Buffer.from(tag);
  const body = Buffer.concat([Buffer.from([name.length]), name, payload]);
  return Buffer.concat([bytes, Buffer.from([0]), leb(body.length), body]);
}

function leb(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
