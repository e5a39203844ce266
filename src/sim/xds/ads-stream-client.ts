/**
 * What a simulated Envoy's ADS client does whatever its api_type
 * (GRPC: xds-client.ts; DELTA_GRPC: delta-xds-client.ts): one stream at a
 * time on the node's channel, node on the first request of each stream,
 * reconnects with jittered exponential backoff (500 ms doubling to 30 s,
 * Envoy's GrpcStream RETRY_INITIAL_DELAY_MS / MAX), the connected state,
 * and the ordering Envoy's muxes keep: requests an update causes (EDS after
 * CDS, RDS/ECDS after LDS) go out before that update's ACK, because the
 * mux queues the ACK after the watch callbacks, and those resume the
 * dependent types as they return (grpc_mux_impl.cc / new_grpc_mux_impl.cc).
 */
import type * as grpc from "@grpc/grpc-js";
import type { Any__Output } from "../../generated/google/protobuf/Any";
import type { Logger } from "../../logger";
import type { Clock, TimerHandle } from "../../time/clock";
import { JitteredExponentialBackOff, type Random } from "../backoff";

/** google.rpc.Code INTERNAL, what Envoy puts in error_detail.code. */
export const NACK_CODE = 13;

/** The xDS variant a simulated node speaks (Envoy's api_type GRPC or DELTA_GRPC). */
export type XdsApi = "sotw" | "delta";

export interface SentRequest {
  readonly typeUrl: string;
  /** The names the node watches of the type ([] for a wildcard). */
  readonly resourceNames: readonly string[];
  /** The version the node runs (delta: the accepted system_version_info). */
  readonly versionInfo: string;
  readonly responseNonce: string;
  readonly withNode: boolean;
  readonly errorDetail?: { readonly code: number; readonly message: string };
  /** 1 for the first stream, 2 after the first reconnect, ... */
  readonly stream: number;
  /** Delta only: the request's resource_names_subscribe / _unsubscribe and initial_resource_versions. */
  readonly subscribe?: readonly string[];
  readonly unsubscribe?: readonly string[];
  readonly initialVersions?: Readonly<Record<string, string>>;
}

export type ApplyResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** What one delta response changed: the resources it carried that the node watches, and the names it removed. */
export interface DeltaUpdate {
  readonly updated: readonly Any__Output[];
  readonly removed: readonly string[];
}

export interface XdsClientCallbacks {
  /**
   * Applies the type's whole state (every resource the node holds). May call
   * interest() for other types; those requests go out before the ACK. A
   * delta client also says what the response changed (`delta`), for
   * components that Envoy's watch map only tells about their own changes.
   */
  apply(typeUrl: string, resources: readonly Any__Output[], version: string, delta?: DeltaUpdate): ApplyResult;
  onRequest?(request: SentRequest): void;
  onResponse?(response: { typeUrl: string; version: string; nonce: string; resources: number }): void;
  onConnectionChange?(connected: boolean, reason: string): void;
}

export interface XdsClientOptions {
  readonly client: grpc.Client;
  readonly node: Record<string, unknown>;
  readonly callbacks: XdsClientCallbacks;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
}

/** A subscription's interest: "*" (wildcard, CDS/LDS) or sorted, distinct names. */
export type Interest = readonly string[] | "*";

export abstract class AdsStreamClient {
  protected call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  protected streamNo = 0;
  private nodeSent = false;
  private connected_ = false;
  private applying = false;
  private readonly queued: string[] = [];
  private retry: TimerHandle | undefined;
  private stopped = true;
  private readonly backoff: JitteredExponentialBackOff;

  constructor(protected readonly o: XdsClientOptions) {
    this.backoff = new JitteredExponentialBackOff(500, 30_000, o.random);
  }

  /** The gRPC method path. */
  protected abstract readonly path: string;
  /** Handles one response's bytes (decode, apply through applyWith, ACK or NACK). */
  protected abstract onResponseBytes(bytes: Buffer): void;
  /** A new stream: re-send every subscription. */
  protected abstract resubscribe(): void;
  /** Sends the type's pending request (subscription change), if any. */
  protected abstract sendPending(typeUrl: string): void;

  get connected(): boolean {
    return this.connected_;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.retry?.cancel();
    this.retry = undefined;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    this.setConnected(false, "stopped");
  }

  /** A subscription of `typeUrl` changed: its request goes out now, or after the update being applied (before its ACK). */
  protected subscriptionChanged(typeUrl: string): void {
    if (this.applying) {
      if (!this.queued.includes(typeUrl)) this.queued.push(typeUrl);
    } else {
      this.sendPending(typeUrl);
    }
  }

  /** Runs the node's apply for a response, then sends what it caused, then calls `answer` (the ACK or NACK). */
  protected applyWith(typeUrl: string, apply: () => ApplyResult, answer: (result: ApplyResult) => void): void {
    this.applying = true;
    let result: ApplyResult;
    try {
      result = apply();
    } catch (err) {
      result = { ok: false, message: err instanceof Error ? err.message : String(err) };
    } finally {
      this.applying = false;
    }
    for (const t of this.queued.splice(0)) if (t !== typeUrl) this.sendPending(t);
    answer(result);
  }

  /** A response arrived: the stream is up (call before handling it). */
  protected responded(): void {
    this.backoff.reset();
    this.setConnected(true, "response received");
  }

  /** Writes a request; node on the first of each stream. Returns whether node went with it. */
  protected write(encode: (withNode: boolean) => Buffer): boolean | undefined {
    const call = this.call;
    if (!call) return undefined;
    const withNode = !this.nodeSent;
    this.nodeSent = true;
    call.write(encode(withNode));
    return withNode;
  }

  private open(): void {
    this.streamNo++;
    this.nodeSent = false;
    const call = this.o.client.makeBidiStreamRequest<Buffer, Buffer>(
      this.path,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    this.call = call;
    call.on("data", (bytes: Buffer) => {
      if (this.call === call) this.onResponseBytes(bytes);
    });
    call.on("status", (s: grpc.StatusObject) => {
      if (this.call === call) this.onStreamEnd(`stream closed: ${s.code} ${s.details}`);
    });
    call.on("error", () => {
      // Reported through "status".
    });
    this.resubscribe();
  }

  private onStreamEnd(reason: string): void {
    this.call = undefined;
    this.setConnected(false, reason);
    if (this.stopped) return;
    const delay = this.backoff.nextBackOffMs();
    this.o.logger.debug("ADS stream ended; reconnecting", { reason, delayMs: delay });
    this.retry = this.o.clock.setTimeout(() => {
      this.retry = undefined;
      if (!this.stopped) this.open();
    }, delay);
  }

  private setConnected(connected: boolean, reason: string): void {
    if (this.connected_ === connected) return;
    this.connected_ = connected;
    this.o.callbacks.onConnectionChange?.(connected, reason);
  }
}

/** Sorted distinct names, or "*". */
export function normalizeInterest(names: Interest): Interest {
  return names === "*" ? names : [...new Set(names)].sort();
}

export function sameInterest(a: Interest, b: Interest): boolean {
  if (a === "*" || b === "*") return a === b;
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
