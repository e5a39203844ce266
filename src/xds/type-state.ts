/**
 * What a stream holds per resource type, in either protocol: the
 * subscription, what was sent, ACKed and NACKed, and the last few nonces
 * (delta streams add what the client holds: delta-type-state.ts).
 * Every collection here is bounded (RECENT_NONCES; names by StreamLimits).
 */
import type { NackRecord } from "./events";
import type { NodeInfo } from "../vocabulary/node-info";

export interface SentRecord {
  readonly version: string;
  readonly nonce: string;
  /** TypeState.subscription when this was decided: same number, same names. */
  readonly subscription: number;
  readonly resourceNames: readonly string[];
  readonly at: number;
}

export interface TypeStatus {
  readonly typeUrl: string;
  readonly wildcard: boolean;
  readonly names: readonly string[];
  readonly sent?: { version: string; nonce: string; at: number; resourceNames: readonly string[] };
  readonly acked?: { version: string; at: number };
  readonly nack?: NackRecord;
}

/** The xDS variant a stream speaks: state of the world, or incremental (DeltaAggregatedResources). */
export type XdsProtocol = "sotw" | "delta";

export interface StreamStatus {
  readonly streamId: number;
  readonly protocol: XdsProtocol;
  readonly node?: NodeInfo;
  readonly group?: string;
  readonly connectedAt: number;
  readonly types: readonly TypeStatus[];
  readonly ignoredTypes: readonly string[];
  /** Set while the stream is not taking its responses (bytes buffered over the limit). */
  readonly blockedSince?: number;
}

/** Sent nonces remembered per type, to attribute late NACKs and to record each NACK once. */
export const RECENT_NONCES = 8;

export class TypeState {
  wildcard = false;
  names = new Set<string>();
  /** Changes whenever `names` or `wildcard` does (the subscription's identity, without a key built from names). */
  subscription = 0;
  /** `names` as a frozen list for status(), shared rather than copied on every status. */
  namesList: readonly string[] = Object.freeze([]);
  sent: SentRecord | undefined;
  /** The type's version in the snapshot `sent` was decided on: same version, same subscription, same response. */
  sentTypeVersion: string | undefined;
  /** The newest shared response this stream was sent (see shared-response.ts). */
  lastSharedSeq = 0;
  acked: { version: string; at: number } | undefined;
  /** version_info of the type's first request (state of the world): what a reconnecting node holds, until a response is decided. */
  clientVersion: string | undefined;
  nack: NackRecord | undefined;
  /** A response is due but the stream was blocked (backpressure). */
  pending = false;
  /** Recent nonce -> version, to attribute late NACKs. */
  readonly recent = new Map<string, SentRecord>();
  /** Nonces already NACKed (at most RECENT_NONCES). */
  readonly nacked = new Set<string>();

  /** Replaces the subscription (a new identity, so the next decision is made again). */
  setSubscription(wildcard: boolean, names: Iterable<string>): void {
    this.wildcard = wildcard;
    this.names = new Set(names);
    this.namesList = Object.freeze([...this.names]);
    this.subscription++;
  }
}

/** Whether a request's names are exactly the set held (the usual ACK), without sorting. */
export function sameNames(held: ReadonlySet<string>, names: readonly string[]): boolean {
  if (held.size !== names.length) return false;
  for (const n of names) if (!held.has(n)) return false;
  return true;
}
