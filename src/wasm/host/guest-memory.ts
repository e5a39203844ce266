/**
 * Access to the module's linear memory from host functions. Every access is
 * bounds-checked and reports failure instead of throwing, so host functions
 * can answer InvalidMemoryAccess like proxy-wasm-cpp-host's V8::getMemory /
 * setMemory / setWord (src/v8/v8.cc). The cached views are rebuilt whenever
 * the memory grows, because growing detaches the old ArrayBuffer.
 */
import type { WasmMemory } from "./wasm-api";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

export class GuestMemory {
  private cachedBuffer: ArrayBuffer | SharedArrayBuffer | undefined;
  private u8: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));
  /** The module's allocator (malloc or proxy_on_memory_allocate), wired once the instance exists. */
  allocator: ((size: number) => number) | undefined;

  constructor(private memory: WasmMemory | undefined) {}

  attach(memory: WasmMemory): void {
    this.memory = memory;
    this.cachedBuffer = undefined;
  }

  get byteLength(): number {
    return this.memory ? this.memory.buffer.byteLength : 0;
  }

  private refresh(): void {
    const buffer = this.memory?.buffer;
    if (buffer !== this.cachedBuffer) {
      this.cachedBuffer = buffer;
      this.u8 = buffer ? new Uint8Array(buffer) : new Uint8Array(0);
      this.dv = buffer ? new DataView(buffer) : new DataView(new ArrayBuffer(0));
    }
  }

  inBounds(ptr: number, len: number): boolean {
    this.refresh();
    return ptr >= 0 && len >= 0 && ptr + len <= this.u8.length;
  }

  /** A copy of `len` bytes at `ptr`, or undefined when out of bounds. */
  read(ptr: number, len: number): Uint8Array | undefined {
    if (!this.inBounds(ptr, len)) return undefined;
    return this.u8.slice(ptr, ptr + len);
  }

  readString(ptr: number, len: number): string | undefined {
    if (!this.inBounds(ptr, len)) return undefined;
    return decoder.decode(this.u8.subarray(ptr, ptr + len));
  }

  readU32(ptr: number): number | undefined {
    if (!this.inBounds(ptr, 4)) return undefined;
    return this.dv.getUint32(ptr, true);
  }

  write(ptr: number, data: Uint8Array): boolean {
    if (!this.inBounds(ptr, data.length)) return false;
    this.u8.set(data, ptr);
    return true;
  }

  writeU32(ptr: number, value: number): boolean {
    if (!this.inBounds(ptr, 4)) return false;
    this.dv.setUint32(ptr, value >>> 0, true);
    return true;
  }

  writeU64(ptr: number, value: bigint): boolean {
    if (!this.inBounds(ptr, 8)) return false;
    this.dv.setBigUint64(ptr, BigInt.asUintN(64, value), true);
    return true;
  }

  /** Allocates `size` bytes in the module (WasmBase::allocMemory); 0 when that fails. */
  alloc(size: number): number {
    if (!this.allocator) return 0;
    const ptr = this.allocator(size) >>> 0;
    if (ptr === 0 || !this.inBounds(ptr, size)) return 0;
    return ptr;
  }

  /**
   * Copies `data` into freshly allocated module memory and stores pointer
   * and size at `ptrPtr`/`sizePtr` (WasmBase::copyToPointerSize): empty data
   * is reported as pointer 0, size 0 without allocating.
   */
  copyToPointerSize(data: Uint8Array | string, ptrPtr: number, sizePtr: number): boolean {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let ptr = 0;
    if (bytes.length > 0) {
      ptr = this.alloc(bytes.length);
      if (ptr === 0 || !this.write(ptr, bytes)) return false;
    }
    return this.writeU32(ptrPtr, ptr) && this.writeU32(sizePtr, bytes.length);
  }
}
