/**
 * A byte buffer as proxy_get_buffer_bytes / proxy_set_buffer_bytes see it.
 * Mutable buffers (bodies, connection data) follow Envoy's
 * Buffer::copyFrom (source/extensions/common/wasm/context.cc): start 0
 * drains `length` bytes and prepends the data, start at or past the end
 * appends, anything else is BadArgument; immutable buffers (configurations,
 * call responses) refuse writes with BadArgument.
 */
import { WasmResult } from "../abi/enums";

export class HostBuffer {
  constructor(
    public bytes: Uint8Array,
    readonly mutable: boolean,
  ) {}

  get length(): number {
    return this.bytes.length;
  }

  copyFrom(start: number, length: number, data: Uint8Array): WasmResult {
    if (!this.mutable) return WasmResult.BadArgument;
    if (start === 0) {
      const rest = this.bytes.subarray(Math.min(length, this.bytes.length));
      this.bytes = concat(data, rest);
      return WasmResult.Ok;
    }
    if (start >= this.bytes.length) {
      this.bytes = concat(this.bytes, data);
      return WasmResult.Ok;
    }
    return WasmResult.BadArgument;
  }
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
