/**
 * The gRPC boundary shared by the two Envoy push services (metrics service,
 * access log service): client-streaming calls whose first message carries
 * `identifier.node` and whose later messages do not (metrics_service.proto
 * and als.proto: "only sent in the first message on the stream"; docs/ENVOY.md
 * "Getting stats out of Envoy"). Envoy expects no reply and never ends the
 * stream itself; the empty response is sent when a client does end it.
 *
 * Messages are decoded here, not by grpc-js, so that a size over the limit
 * or bytes that are not the message end only this stream, with a status
 * that says why (RESOURCE_EXHAUSTED, INVALID_ARGUMENT); a bug while handling
 * one is INTERNAL for that stream. Nothing a stream sends reaches others.
 */
import * as grpc from "@grpc/grpc-js";
import { errorMessage } from "../errors";
import type { Node__Output } from "../generated/envoy/config/core/v3/Node";
import type { LogLimiter } from "../log-limiter";
import { type Logger, boundString } from "../logger";
import { type NodeIdentityMode, nodeIdentityProblem } from "../net/node-identity";
import { decodeMessage, encodeMessage } from "../proto/registry";
import { DEFAULT_LIMITS } from "../xds/limits";
import type { NodeInfo } from "../vocabulary/node-info";
import { nodeInfoFrom } from "../xds/node";
import { nodeProblem } from "../xds/node-limits";

/** Ends a stream with a gRPC status; thrown by message handlers. */
export class StreamRejection extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = "StreamRejection";
  }
}

/** A client-streaming method whose request and response stay bytes (decoded by serveClientStream). */
export function clientStreamMethod(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: true,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  };
}

/** Plain numbers for the control plane's own metrics. */
export interface StreamCounters {
  /** Streams whose first message identified a node. */
  streamsAccepted: number;
  /** Streams ended with an error status by this side. */
  streamsRejected: number;
  streamsActive: number;
  messagesAccepted: number;
  messagesRejected: number;
}

export function newStreamCounters(): StreamCounters {
  return { streamsAccepted: 0, streamsRejected: 0, streamsActive: 0, messagesAccepted: 0, messagesRejected: 0 };
}

interface Identified {
  readonly identifier: { readonly node: Node__Output | null } | null;
}

export interface ClientStreamSpec<M extends Identified> {
  /** Full proto names of the request and response messages. */
  readonly requestType: string;
  readonly responseType: string;
  readonly maxMessageBytes: number;
  readonly logger: Logger;
  /** Rate limit of the warnings a peer triggers (rejected streams), keyed by node id or peer address. */
  readonly warnings: LogLimiter;
  readonly counters: StreamCounters;
  /** Open streams, each as the function that ends it with OK (for shutdown). */
  readonly open: Set<() => void>;
  /** The client certificate field the node id must equal (`--node-identity`; default off): else PERMISSION_DENIED. */
  readonly nodeIdentity?: NodeIdentityMode;
  /**
   * Whether to decode and handle a later message of an identified stream, by
   * its size (per-node rate limits); a message not admitted is dropped
   * undecoded and the stream goes on. Unset: every message is handled.
   */
  admit?(node: NodeInfo, bytes: number): boolean;
  /** Handles one message of an identified stream; throws StreamRejection to end the stream. */
  onMessage(node: NodeInfo, message: M): void;
  /** The stream ended, for whatever reason (node undefined if it never identified itself). */
  onClose(node: NodeInfo | undefined): void;
}

const shortName = (fullName: string) => fullName.slice(fullName.lastIndexOf(".") + 1);

export function serveClientStream<M extends Identified>(
  call: grpc.ServerReadableStream<Buffer, Buffer>,
  callback: grpc.sendUnaryData<Buffer>,
  spec: ClientStreamSpec<M>,
): void {
  const what = shortName(spec.requestType);
  const counters = spec.counters;
  let node: NodeInfo | undefined;
  let done = false;

  const close = (): boolean => {
    if (done) return false;
    done = true;
    spec.open.delete(endOk);
    if (node) counters.streamsActive--;
    spec.onClose(node);
    return true;
  };
  // Shutdown: the empty response, as when the client ends the stream.
  const endOk = () => {
    if (close()) callback(null, encodeMessage(spec.responseType, {}));
  };
  spec.open.add(endOk);
  const reject = (code: grpc.status, details: string) => {
    if (!close()) return;
    counters.streamsRejected++;
    callback({ code, details });
  };

  const handle = (bytes: Buffer) => {
    if (bytes.length > spec.maxMessageBytes) {
      throw new StreamRejection(grpc.status.RESOURCE_EXHAUSTED, `${what} of ${bytes.length} bytes is over the limit of ${spec.maxMessageBytes} bytes`);
    }
    if (node && spec.admit && !spec.admit(node, bytes.length)) return;
    let message: M;
    try {
      message = decodeMessage<M>(spec.requestType, bytes);
    } catch (err) {
      throw new StreamRejection(grpc.status.INVALID_ARGUMENT, `not a valid ${what}: ${errorMessage(err)}`);
    }
    const sent = message.identifier?.node;
    if (!node) {
      if (!sent?.id) {
        throw new StreamRejection(grpc.status.INVALID_ARGUMENT, `the first ${what} of a stream must carry identifier.node with a non-empty id`);
      }
      const named = nodeInfoFrom(sent);
      const problem = nodeProblem(named, DEFAULT_LIMITS);
      if (problem) throw new StreamRejection(grpc.status.INVALID_ARGUMENT, `identifier.${problem}`);
      // Stats and access logs count for the node the client certificate names, and no other.
      const denied = nodeIdentityProblem(spec.nodeIdentity ?? "off", call.getAuthContext(), named.id);
      if (denied !== undefined) throw new StreamRejection(grpc.status.PERMISSION_DENIED, denied);
      node = named;
      counters.streamsAccepted++;
      counters.streamsActive++;
    } else if (sent?.id && sent.id !== node.id) {
      throw new StreamRejection(grpc.status.INVALID_ARGUMENT, `identifier.node.id changed from "${boundString(node.id, 256)}" to "${boundString(sent.id, 256)}" within one stream`);
    }
    spec.onMessage(node, message);
  };

  call.on("data", (bytes: Buffer) => {
    if (done) return;
    try {
      handle(bytes);
      counters.messagesAccepted++;
    } catch (err) {
      counters.messagesRejected++;
      if (err instanceof StreamRejection) {
        spec.warnings.warn(`rejected|${node?.id ?? call.getPeer()}`, `rejected a ${what} stream`, {
          node: node?.id,
          peer: call.getPeer(),
          code: grpc.status[err.code],
          reason: err.message,
        });
        reject(err.code, err.message);
      } else {
        // A bug handling one message must not take down the process or other streams.
        spec.logger.error(`error handling a ${what}`, { node: node?.id, err: errorMessage(err) });
        reject(grpc.status.INTERNAL, `internal error handling the ${what}`);
      }
    }
  });
  call.on("end", endOk);
  call.on("cancelled", () => close());
  call.on("error", () => close());
}
