/**
 * Resets one gRPC server call at the HTTP/2 level (RST_STREAM), dropping
 * whatever is still buffered for it. A call's status is written after its
 * buffered messages, so a client that does not read never gets it and the
 * buffered bytes stay in memory until it goes; grpc-js has no public way to
 * cancel a server call, so this reaches the HTTP/2 stream grpc-js keeps
 * (ServerDuplexStreamImpl.call is the BaseServerInterceptingCall, whose
 * `stream` is the http2 ServerHttp2Stream, when no interceptors are
 * installed: grpc-js 1.14). test/reliability/slow-consumer.test.ts pins it;
 * if a grpc-js upgrade moves it, resetCall returns false and the call keeps
 * its status-only ending.
 *
 * ENHANCE_YOUR_CALM is what grpc-js and grpc-go clients report as
 * RESOURCE_EXHAUSTED ("Bandwidth exhausted or memory limit exceeded").
 */
import { constants } from "node:http2";

interface Http2StreamLike {
  readonly closed: boolean;
  close(code: number): void;
}

function http2StreamOf(call: object): Http2StreamLike | undefined {
  const inner = (call as { call?: { stream?: unknown } }).call;
  const stream = inner?.stream as Partial<Http2StreamLike> | undefined;
  return stream && typeof stream.close === "function" && typeof stream.closed === "boolean" ? (stream as Http2StreamLike) : undefined;
}

/** Resets the call's HTTP/2 stream; false when it could not be found (or was already closed). */
export function resetCall(call: object): boolean {
  const stream = http2StreamOf(call);
  if (!stream || stream.closed) return false;
  stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
  return true;
}
