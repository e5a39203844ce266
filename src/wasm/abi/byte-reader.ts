/**
 * A bounded cursor over wasm binary bytes. Every read checks its bounds and
 * fails with a WasmParseError that names what was being read and the byte
 * offset, so bad input never escapes as a bare RangeError.
 */
import { ModuleError } from "../../errors";

export class WasmParseError extends ModuleError {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super("MODULE_INVALID", `${message} at byte ${offset}`);
    this.offset = offset;
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

export class ByteReader {
  private pos: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  fail(what: string): never {
    throw new WasmParseError(what, this.pos);
  }

  u8(what: string): number {
    if (this.pos >= this.end) this.fail(`unexpected end of input reading ${what}`);
    return this.bytes[this.pos++] as number;
  }

  /** Unsigned LEB128 of at most 32 bits (5 bytes), as the spec requires for u32. */
  u32(what: string): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8(what);
      if (i === 4 && b > 0x0f) this.fail(`${what}: LEB128 value exceeds 32 bits`);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    return this.fail(`${what}: LEB128 longer than 5 bytes`);
  }

  /** Unsigned LEB128 of at most 64 bits (memory64 limits); precise up to 2^53. */
  u64(what: string): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      const b = this.u8(what);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    return this.fail(`${what}: LEB128 longer than 10 bytes`);
  }

  /** Skips a signed LEB128 of at most `maxBytes` bytes (heap types, block types). */
  skipSigned(what: string, maxBytes: number): void {
    for (let i = 0; i < maxBytes; i++) {
      if ((this.u8(what) & 0x80) === 0) return;
    }
    this.fail(`${what}: LEB128 longer than ${maxBytes} bytes`);
  }

  bytesOf(length: number, what: string): Uint8Array {
    if (length > this.remaining) this.fail(`${what}: length ${length} runs past the end`);
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  name(what: string): string {
    const len = this.u32(`${what} length`);
    const at = this.pos;
    const raw = this.bytesOf(len, what);
    try {
      return decoder.decode(raw);
    } catch {
      throw new WasmParseError(`${what} is not valid UTF-8`, at);
    }
  }

  /** A reader over the next `length` bytes; this reader moves past them. */
  sub(length: number, what: string): ByteReader {
    if (length > this.remaining) this.fail(`${what}: size ${length} runs past the end`);
    const reader = new ByteReader(this.bytes, this.pos, this.pos + length);
    this.pos += length;
    return reader;
  }
}
