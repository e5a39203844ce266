/**
 * Typed access to the engine's WebAssembly JS API. The project compiles
 * against lib ES2023 without DOM, which declares no WebAssembly types, so
 * the few parts used here are described locally instead of in a global
 * declaration that could clash with other code.
 */
export type ExternKindName = "function" | "table" | "memory" | "global" | "tag";

/** An opaque compiled module (a real WebAssembly.Module at runtime). */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}

export interface WasmTable {
  readonly length: number;
}

export interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>;
}

export type WasmImports = Record<string, Record<string, unknown>>;

interface WasmApi {
  readonly Module: {
    new (bytes: Uint8Array): WasmModule;
    imports(module: WasmModule): { module: string; name: string; kind: ExternKindName }[];
    exports(module: WasmModule): { name: string; kind: ExternKindName }[];
  };
  readonly Instance: new (module: WasmModule, imports: WasmImports) => WasmInstance;
  readonly Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  readonly Table: new (descriptor: { element: "anyfunc" | "externref"; initial: number; maximum?: number }) => WasmTable;
  readonly RuntimeError: new (message?: string) => Error;
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

export const Wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export function isWasmModule(value: unknown): value is WasmModule {
  return value instanceof Wasm.Module;
}

export function isWasmMemory(value: unknown): value is WasmMemory {
  return value instanceof Wasm.Memory;
}
