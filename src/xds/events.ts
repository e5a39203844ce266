/**
 * What happens on xDS streams, as events: connects, pushes, ACKs, NACKs and
 * disconnects. Health tracking, the admin API and the dev output subscribe;
 * listeners are called asynchronously so none of them can re-enter a stream.
 */
import { Emitter } from "../emitter";
import type { NodeInfo } from "../vocabulary/node-info";

export interface NackRecord {
  readonly nodeId: string;
  readonly streamId: number;
  readonly typeUrl: string;
  /** The version the node rejected (the one sent with `nonce`). */
  readonly rejectedVersion: string;
  /** The version the node still runs (version_info of the NACK). */
  readonly keptVersion: string;
  readonly nonce: string;
  /** error_detail.message, in Envoy's words. */
  readonly message: string;
  readonly code: number;
  readonly resourceNames: readonly string[];
  readonly at: number;
}

export type XdsEvent =
  | { readonly kind: "connect"; readonly streamId: number; readonly node: NodeInfo; readonly group: string }
  | { readonly kind: "disconnect"; readonly streamId: number; readonly node: NodeInfo; readonly reason: string }
  | {
      readonly kind: "push";
      readonly streamId: number;
      readonly node: NodeInfo;
      readonly typeUrl: string;
      readonly version: string;
      readonly nonce: string;
      readonly resourceNames: readonly string[];
    }
  | {
      readonly kind: "ack";
      readonly streamId: number;
      readonly node: NodeInfo;
      readonly typeUrl: string;
      readonly version: string;
      readonly resourceNames: readonly string[];
    }
  | { readonly kind: "nack"; readonly node: NodeInfo; readonly nack: NackRecord };

export type XdsEventListener = (event: XdsEvent) => void;

export class XdsEvents extends Emitter<XdsEvent> {}
