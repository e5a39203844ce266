/**
 * The one way this project names a module: lowercase hex SHA-256 of its raw
 * bytes. Envoy compares RemoteDataSource.sha256 against exactly this string
 * (hex-encoded digest of the fetched body, no normalisation), so any other
 * spelling — uppercase, base64, a `sha256:` prefix — would never match there.
 */
import { createHash } from "node:crypto";

/** Matches a module hash as Envoy spells it, and nothing else. */
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;

/** Lowercase hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** True when `text` is a module hash in Envoy's spelling (64 lowercase hex digits). */
export function isSha256Hex(text: string): boolean {
  return SHA256_HEX_PATTERN.test(text);
}
