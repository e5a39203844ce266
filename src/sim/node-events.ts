/**
 * What a simulated node reports as it runs, for tests, the CLI summary and
 * rollout tooling. Events are delivered asynchronously (src/emitter.ts).
 */
import type { HttpOutcome } from "./traffic/http-stream";
import type { TcpOutcome } from "./traffic/tcp-connection";
import type { SentRequest } from "./xds/xds-client";

/** A NACK the node sent. */
export interface NackSent {
  readonly typeUrl: string;
  /** The version the node rejected (the response's version_info). */
  readonly rejectedVersion: string;
  /** The version it keeps (the NACK's version_info). */
  readonly keptVersion: string;
  readonly nonce: string;
  readonly message: string;
  readonly at: number;
}

export type SimNodeEvent =
  | { readonly kind: "request"; readonly node: string; readonly request: SentRequest }
  | { readonly kind: "response"; readonly node: string; readonly typeUrl: string; readonly version: string; readonly nonce: string; readonly resources: number }
  | { readonly kind: "ack"; readonly node: string; readonly typeUrl: string; readonly version: string }
  | { readonly kind: "nack"; readonly node: string; readonly nack: NackSent }
  | { readonly kind: "connection"; readonly node: string; readonly connected: boolean; readonly reason: string }
  | { readonly kind: "http"; readonly node: string; readonly outcome: HttpOutcome }
  | { readonly kind: "tcp"; readonly node: string; readonly outcome: TcpOutcome };
