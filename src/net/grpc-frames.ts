/**
 * Responses handed to grpc-js as ready gRPC frames, so that a body encoded
 * once is not copied once per stream.
 *
 * grpc-js frames every message it sends (serializeMessage: a new buffer of
 * 5 + length bytes, the message copied in after the compression flag and
 * the length). The xDS server writes the same response body, nonce
 * included, to every stream of a version (xds/shared-response.ts): with a
 * 17 KB module inline and 10,000 nodes that was 170 MB allocated and copied
 * per push, freed only after the sockets took it (docs/PERFORMANCE.md,
 * round two). Instead, a message is allocated with its frame header in
 * front (allocFramed), and a call set up with framedWrites sends that
 * frame as it is: grpc-js still does everything else a write does (the
 * headers on the first message, the size limit, ordering, the write
 * callback, the status after the last message).
 *
 * This reaches grpc-js's per-call object as grpc-call-reset.ts does
 * (ServerDuplexStreamImpl.call is the BaseServerInterceptingCall when no
 * interceptors are installed, grpc-js 1.14) and replaces its
 * serializeMessage for that call only, passing through anything that is
 * not a Framed. If a grpc-js upgrade moves it, framedWrites returns false,
 * the transport writes plain messages, and grpc-js frames them as before
 * (test/net/grpc-frames.test.ts fails first).
 */

/** The gRPC length prefix: a compression flag byte and a 4-byte big-endian length. */
export const FRAME_HEADER_BYTES = 5;

/** A message with its gRPC frame around it, to write with a call set up by framedWrites. */
export class Framed {
  constructor(readonly frame: Buffer) {}
}

/**
 * A buffer of `length` bytes for a message, preceded (in the same
 * allocation, which is its own) by an uncompressed gRPC frame header.
 * Used like any Buffer; framedOf finds the frame again.
 */
export function allocFramed(length: number): Buffer {
  const frame = Buffer.allocUnsafeSlow(FRAME_HEADER_BYTES + length);
  frame[0] = 0;
  frame.writeUInt32BE(length, 1);
  return frame.subarray(FRAME_HEADER_BYTES);
}

/** The frame of a message made by allocFramed (no copy); undefined for any other buffer. */
export function framedOf(message: Buffer): Framed | undefined {
  if (message.byteOffset !== FRAME_HEADER_BYTES || message.buffer.byteLength !== message.length + FRAME_HEADER_BYTES) return undefined;
  const frame = Buffer.from(message.buffer, 0, message.length + FRAME_HEADER_BYTES);
  return frame[0] === 0 && frame.readUInt32BE(1) === message.length ? new Framed(frame) : undefined;
}

type Serialize = (this: unknown, value: unknown) => Buffer;

/**
 * Makes the server call write Framed values as they are (and anything else
 * as before). false: this grpc-js keeps its call elsewhere; write plain
 * messages.
 */
export function framedWrites(call: object): boolean {
  const inner = (call as { call?: { serializeMessage?: unknown; stream?: unknown } }).call;
  if (!inner || typeof inner.serializeMessage !== "function" || inner.stream === undefined) return false;
  const original = inner.serializeMessage as Serialize;
  inner.serializeMessage = function serializeFramed(this: unknown, value: unknown): Buffer {
    return value instanceof Framed ? value.frame : original.call(this, value);
  };
  return true;
}
