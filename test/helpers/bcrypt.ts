/**
 * bcrypt ($2a$), for the htpasswd file of the test registry: the
 * distribution registry accepts bcrypt hashes only, and no bcrypt package is
 * installed. Blowfish's initial P-array and S-boxes are the hex digits of
 * pi after the 3, computed here once (Machin's formula on BigInt) instead of
 * pasted as 1,042 constants. Checked against OpenBSD's test vectors in
 * test/wasm/oci-bcrypt.test.ts. Test-only: not constant time, not for secrets.
 */
import { randomBytes } from "node:crypto";

const WORDS = 18 + 4 * 256;
let piWords: Uint32Array | undefined;

/** The first `WORDS` 32-bit words of pi's fractional hex digits. */
function pi(): Uint32Array {
  if (piWords) return piWords;
  const bits = BigInt(WORDS * 32);
  const guard = 64n;
  const one = 1n << (bits + guard);
  const atanInv = (x: bigint): bigint => {
    let term = one / x;
    let sum = term;
    const x2 = x * x;
    for (let k = 1n; term !== 0n; k++) {
      term /= x2;
      sum += (k % 2n === 0n ? 1n : -1n) * (term / (2n * k + 1n));
    }
    return sum;
  };
  const value = 16n * atanInv(5n) - 4n * atanInv(239n);
  const frac = (value - 3n * one) >> guard;
  piWords = new Uint32Array(WORDS);
  for (let i = 0; i < WORDS; i++) piWords[i] = Number((frac >> (bits - 32n * BigInt(i + 1))) & 0xffffffffn);
  return piWords;
}

class Blowfish {
  readonly p: Uint32Array;
  readonly s: Uint32Array;

  constructor() {
    const init = pi();
    this.p = init.slice(0, 18);
    this.s = init.slice(18);
  }

  private f(x: number): number {
    const s = this.s;
    return ((((s[x >>> 24] as number) + (s[256 + ((x >>> 16) & 0xff)] as number)) ^ (s[512 + ((x >>> 8) & 0xff)] as number)) + (s[768 + (x & 0xff)] as number)) >>> 0;
  }

  encipher(lr: Uint32Array, i: number): void {
    let l = lr[i] as number;
    let r = lr[i + 1] as number;
    for (let k = 0; k < 16; k++) {
      l = (l ^ (this.p[k] as number)) >>> 0;
      r = (r ^ this.f(l)) >>> 0;
      [l, r] = [r, l];
    }
    [l, r] = [r, l];
    r = (r ^ (this.p[16] as number)) >>> 0;
    l = (l ^ (this.p[17] as number)) >>> 0;
    lr[i] = l;
    lr[i + 1] = r;
  }

  /** The eksblowfish key schedule; with `salt` the salted variant of the first round. */
  expand(key: Uint8Array, salt?: Uint8Array): void {
    const keyAt = { pos: 0 };
    for (let i = 0; i < 18; i++) this.p[i] = ((this.p[i] as number) ^ word(key, keyAt)) >>> 0;
    const saltAt = { pos: 0 };
    const lr = new Uint32Array(2);
    const fill = (target: Uint32Array) => {
      for (let i = 0; i < target.length; i += 2) {
        if (salt) {
          lr[0] = ((lr[0] as number) ^ word(salt, saltAt)) >>> 0;
          lr[1] = ((lr[1] as number) ^ word(salt, saltAt)) >>> 0;
        }
        this.encipher(lr, 0);
        target[i] = lr[0] as number;
        target[i + 1] = lr[1] as number;
      }
    };
    fill(this.p);
    fill(this.s);
  }
}

function word(data: Uint8Array, at: { pos: number }): number {
  let w = 0;
  for (let i = 0; i < 4; i++) {
    w = ((w << 8) | (data[at.pos] as number)) >>> 0;
    at.pos = (at.pos + 1) % data.length;
  }
  return w;
}

const ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function encode(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i] as number;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    out += ALPHABET[b0 >> 2];
    out += ALPHABET[((b0 & 3) << 4) | ((b1 ?? 0) >> 4)];
    if (b1 === undefined) break;
    out += ALPHABET[((b1 & 15) << 2) | ((b2 ?? 0) >> 6)];
    if (b2 === undefined) break;
    out += ALPHABET[b2 & 63];
  }
  return out;
}

function decode(text: string, length: number): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let n = 0;
  for (const ch of text) {
    acc = (acc << 6) | ALPHABET.indexOf(ch);
    n += 6;
    if (n >= 8) {
      n -= 8;
      out.push((acc >> n) & 0xff);
    }
  }
  return Uint8Array.from(out.slice(0, length));
}

/** `$2a$<cost>$<salt><hash>` of `password`; `saltText` (22 characters) for test vectors, random otherwise. */
export function bcryptHash(password: string, cost = 5, saltText?: string): string {
  const salt = saltText === undefined ? randomBytes(16) : decode(saltText, 16);
  const key = Buffer.concat([Buffer.from(password, "utf8"), Buffer.from([0])]).subarray(0, 72);
  const bf = new Blowfish();
  bf.expand(key, salt);
  for (let i = 0; i < 2 ** cost; i++) {
    bf.expand(key);
    bf.expand(salt);
  }
  const text = Buffer.from("OrpheanBeholderScryDoubt");
  const c = new Uint32Array(6);
  for (let i = 0; i < 6; i++) c[i] = text.readUInt32BE(i * 4);
  for (let round = 0; round < 64; round++) for (let j = 0; j < 6; j += 2) bf.encipher(c, j);
  const out = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) out.writeUInt32BE(c[i] as number, i * 4);
  return `$2a$${String(cost).padStart(2, "0")}$${encode(salt).slice(0, 22)}${encode(out.subarray(0, 23))}`;
}
