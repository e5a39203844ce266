/**
 * A response body with a nonce, built once and written to every stream that
 * is sent that body (the "one encode per version, then one write per
 * stream" of issue 8: no per-stream copy or allocation). Its nonce is then
 * the same on those streams, which the protocol allows: a nonce only has to
 * identify a response within its stream. Each body's nonce comes from the
 * same counter as every other nonce, and a stream takes a shared one only
 * if it is newer than the last shared one it took, so no nonce is ever
 * sent twice on a stream (a body sent to a stream again, e.g. after a
 * subscription went A -> B -> A, gets a fresh nonce of its own).
 */
import { stringField } from "../cache/resource";
import { allocFramed } from "../net/grpc-frames";
import type { ResponseBody } from "../cache/snapshot";

export interface SharedResponse {
  readonly seq: number;
  readonly nonce: string;
  readonly bytes: Buffer;
}

let nonceCounter = 0;
const sharedResponses = new WeakMap<ResponseBody, SharedResponse>();

export function sharedResponse(body: ResponseBody): SharedResponse {
  let shared = sharedResponses.get(body);
  if (!shared) {
    const seq = ++nonceCounter;
    const nonce = seq.toString(36);
    shared = { seq, nonce, bytes: withNonce(body.body, nonce) };
    sharedResponses.set(body, shared);
  }
  return shared;
}

/** A body given a nonce from the counter, to be written as is to every stream it is new to (delta-response.ts). */
export function sharedBody(body: Buffer): SharedResponse {
  const seq = ++nonceCounter;
  const nonce = seq.toString(36);
  return { seq, nonce, bytes: withNonce(body, nonce) };
}

/** A fresh nonce, from the one counter every response's nonce comes from (state of the world and delta). */
export function nextNonce(): string {
  return (++nonceCounter).toString(36);
}

/** A response of its own for one stream: the body with a fresh nonce. */
export function ownResponse(body: ResponseBody): { nonce: string; bytes: Buffer } {
  const nonce = nextNonce();
  return { nonce, bytes: withNonce(body.body, nonce) };
}

/**
 * body + field 5 (nonce), in one allocation (DiscoveryResponse and
 * DeltaDiscoveryResponse both carry the nonce in field 5), with the gRPC
 * frame header in front of it, so that grpc-js writes the one buffer to
 * every stream instead of copying it per stream (net/grpc-frames.ts).
 */
export function withNonce(body: Buffer, nonce: string): Buffer {
  const field = stringField(5, nonce);
  const out = allocFramed(body.length + field.length);
  body.copy(out, 0);
  field.copy(out, body.length);
  return out;
}
