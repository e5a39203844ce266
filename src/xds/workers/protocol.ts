/**
 * The messages between the main process and its xDS worker processes
 * (`--workers N`, docs/WORKERS.md). Both ends are this package at the same
 * version, started together, so the shapes are trusted; what arrives from
 * Envoys is checked in the worker as it is in one process.
 *
 * Hot paths are tuples in batches: a worker sends what happened on its
 * streams (one message per turn of its event loop, `[kind, stream, ...]`);
 * the main process sends snapshots once per group and version (resource
 * bytes only when the worker does not hold them yet) and group
 * assignments in batches.
 */
import type { NackRecord } from "../events";
import type { CertificateMaterial } from "../../net/grpc-tls";
import type { NodeIdentityMode } from "../../net/node-identity";
import type { NodeInfo } from "../../vocabulary/node-info";
import type { StreamLimits } from "../limits";
import type { XdsProtocol } from "../type-state";
import type { WorkerLog } from "./worker-logger";

/** The serialization of the IPC channel: V8's, so Buffers pass as bytes. */
export const IPC_SERIALIZATION = "advanced";

export interface WorkerInit {
  readonly t: "init";
  /** This worker's place (0-based), its first stream id and the number of workers: its ids are firstStreamId + k * count. */
  readonly index: number;
  readonly firstStreamId: number;
  readonly count: number;
  /** The worker's private Unix socket for its gRPC server: it is handed connections, it accepts none. */
  readonly socketPath: string;
  /** The certificate, key and client CA the main process read (it re-reads them; "tls" messages follow). */
  readonly tls?: CertificateMaterial;
  readonly nodeIdentity: NodeIdentityMode;
  readonly limits?: Partial<StreamLimits>;
  readonly maxStreams?: number;
  /** Client-streaming methods served by the main process (metrics, access logs): forwarded as bytes. */
  readonly bridged: readonly string[];
  /** Log level names the main logger passes on (debug lines are not sent unless asked). */
  readonly debug: boolean;
}

/** A type in a snapshot: its URL and its resources as [name, version]. */
export type WireType = readonly [typeUrl: string, resources: ReadonlyArray<readonly [string, string]>];
/** A resource the worker does not hold yet. */
export type WireResource = readonly [typeUrl: string, name: string, version: string, bytes: Uint8Array];

/** A client-streaming call's answer: gRPC status (0: OK with `bytes`). */
export type BridgeReply = readonly [callId: number, code: number, details: string, bytes: Uint8Array | null];

export type ToWorker =
  | WorkerInit
  | { readonly t: "snap"; readonly group: string; readonly types: readonly WireType[]; readonly fresh: readonly WireResource[] }
  | { readonly t: "drop"; readonly group: string }
  | { readonly t: "assign"; readonly items: ReadonlyArray<readonly [streamId: number, group: string]> }
  | { readonly t: "reply"; readonly items: readonly BridgeReply[] }
  | { readonly t: "close-streams" }
  | { readonly t: "shutdown"; readonly graceMs: number }
  | { readonly t: "cpu"; readonly id: number }
  | { readonly t: "tls"; readonly material: CertificateMaterial }
  /** A connection (the socket travels as the message's handle; connection-router.ts). */
  | { readonly t: "conn"; readonly id: number };

/** What happened on a worker's streams, in order. */
export type StreamItem =
  | readonly ["connect", streamId: number, node: NodeInfo, protocol: XdsProtocol]
  | readonly ["push", streamId: number, typeUrl: string, version: string, nonce: string, names: readonly string[]]
  /** An ACK names the resources of the type's last push (reported before it), as in one process: not sent again. */
  | readonly ["ack", streamId: number, typeUrl: string, version: string]
  | readonly ["nack", streamId: number, nack: NackRecord]
  | readonly ["close", streamId: number, reason: string]
  /** Per type: URL, wildcard, names, the version ACKed (null: none). */
  | readonly ["sub", streamId: number, types: ReadonlyArray<readonly [string, boolean, readonly string[], string | null]>, ignored: readonly string[]]
  | readonly ["blocked", streamId: number, blocked: boolean]
  /** A connection handed to the worker closed. */
  | readonly ["gone", connectionId: number]
  /** Bridged calls: opened (peer, the client certificate's CN and SANs), a message, ended ("end", "cancel", "error"). */
  | readonly ["call", callId: number, path: string, peer: string, cert: BridgedCertificate | null]
  | readonly ["data", callId: number, bytes: Uint8Array]
  | readonly ["end", callId: number, how: "end" | "cancel" | "error"];

/** What node identity checks read of a client certificate (net/node-identity.ts). */
export interface BridgedCertificate {
  readonly subject?: { readonly CN?: string | string[] };
  readonly subjectaltname?: string;
}

export type FromWorker =
  /** The worker's code is loaded and listens for messages: init may be sent (earlier messages would be lost). */
  | { readonly t: "loaded" }
  | { readonly t: "listening" }
  /** A handed connection arrived (connection-router.ts sends the next). */
  | { readonly t: "took" }
  | { readonly t: "failed"; readonly message: string; readonly code?: string }
  /** `streams`: the worker's open streams, with or without a node yet. */
  | { readonly t: "batch"; readonly items: readonly StreamItem[]; readonly streams: number; readonly logs?: readonly WorkerLog[] }
  | { readonly t: "log"; readonly level: "debug" | "info" | "warn" | "error"; readonly message: string; readonly fields?: Record<string, unknown> }
  | ({ readonly t: "cpu"; readonly id: number } & WorkerUsage)
  | { readonly t: "closed" };

/** A worker's CPU time so far (µs) and memory now (bytes): benchmarks and GET /v1/workers. */
export interface WorkerUsage {
  readonly user: number;
  readonly system: number;
  readonly rss: number;
  readonly heapUsed: number;
}

export function isFromWorker(m: unknown): m is FromWorker {
  return typeof m === "object" && m !== null && typeof (m as { t?: unknown }).t === "string";
}

export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === "object" && m !== null && typeof (m as { t?: unknown }).t === "string";
}
