/**
 * What one xDS peer may ask of the server (docs/RELIABILITY.md, "Peers").
 * Every limit ends only the stream that crosses it, with a gRPC status that
 * names the limit; nothing a peer sends can grow memory outside them.
 */
export interface StreamLimits {
  /** Most resource names one request may carry. */
  readonly maxResourceNames: number;
  /** Longest resource name accepted. */
  readonly maxNameLength: number;
  /** Longest node id accepted. */
  readonly maxNodeIdLength: number;
  /** Largest node metadata accepted, in characters of its JSON. */
  readonly maxNodeMetadataBytes: number;
  /** Longest version_info or response_nonce accepted. */
  readonly maxVersionLength: number;
  /** Distinct unserved type URLs remembered per stream (for status; later ones are still ignored). */
  readonly maxIgnoredTypes: number;
  /** Bytes written to a stream and not yet taken by its connection above which nothing more is written. */
  readonly maxBufferedBytes: number;
  /** How long a stream may stay above maxBufferedBytes before it is closed (RESOURCE_EXHAUSTED). */
  readonly blockedTimeoutMs: number;
}

export const DEFAULT_LIMITS: StreamLimits = Object.freeze({
  maxResourceNames: 10_000,
  maxNameLength: 4096,
  maxNodeIdLength: 2048,
  maxNodeMetadataBytes: 64 * 1024,
  maxVersionLength: 1024,
  maxIgnoredTypes: 16,
  maxBufferedBytes: 8 * 1024 * 1024,
  blockedTimeoutMs: 60_000,
});

/** Longest error_detail.message kept in a NACK record (the rest is cut, saying how much). */
export const MAX_NACK_MESSAGE = 4096;

/** gRPC status codes used at the stream boundary. */
export const GRPC_STATUS = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8 } as const;
