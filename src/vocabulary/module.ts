/**
 * A Wasm module as every layer names it: its bytes and their lowercase hex
 * SHA-256 (sha256.ts), and the size above which wasmxds refuses to read or
 * fetch one. Shared by the config loader, the module store and fetcher, the
 * resource builders and the health state.
 */

/** A module's identity and, when known, its bytes. */
export interface ModuleBytes {
  readonly sha256: string;
  readonly bytes: Uint8Array;
}

/** The largest module read from the config folder or fetched from a URL (64 MiB). */
export const DEFAULT_MAX_MODULE_BYTES = 64 * 1024 * 1024;
