/**
 * The xDS side of a simulated Envoy: one ADS stream (state of the world) on
 * the node's gRPC channel, speaking as Envoy's GrpcMuxImpl does (xDS
 * protocol docs, "ACK/NACK and resource type instance version"; docs/ENVOY.md
 * "Minimal bootstrap shape"):
 * - node only on the first request of each stream (set_node_on_first_message_only);
 * - one subscription per type URL whose names are the union of what the
 *   node's components watch; a request is sent when that set changes;
 * - ACK: version_info = the accepted version, response_nonce = its nonce;
 *   NACK: version_info = the previously accepted version, the response's
 *   nonce, and error_detail (code 13 INTERNAL, Envoy's message);
 * - requests that an update causes (EDS after CDS, RDS/ECDS after LDS) go
 *   out before that update's ACK: GrpcMuxImpl queues the ACK after the watch
 *   callbacks, and those resume the paused dependent types as they return;
 * - a broken stream is retried with jittered exponential backoff (500 ms
 *   doubling to 30 s, GrpcStream's RETRY_INITIAL_DELAY_MS / MAX), and the new
 *   stream re-requests every type with its accepted version and no nonce.
 */
import type * as grpc from "@grpc/grpc-js";
import type { Any__Output } from "../../generated/google/protobuf/Any";
import type { DiscoveryResponse__Output } from "../../generated/envoy/service/discovery/v3/DiscoveryResponse";
import type { Logger } from "../../logger";
import { decodeMessage, encodeMessage } from "../../proto/registry";
import { JitteredExponentialBackOff, type Random } from "../backoff";
import type { Clock, TimerHandle } from "../../time/clock";

export const ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
const REQUEST = "envoy.service.discovery.v3.DiscoveryRequest";
const RESPONSE = "envoy.service.discovery.v3.DiscoveryResponse";
/** google.rpc.Code INTERNAL, what Envoy puts in error_detail.code. */
export const NACK_CODE = 13;

export interface SentRequest {
  readonly typeUrl: string;
  readonly resourceNames: readonly string[];
  readonly versionInfo: string;
  readonly responseNonce: string;
  readonly withNode: boolean;
  readonly errorDetail?: { readonly code: number; readonly message: string };
  /** 1 for the first stream, 2 after the first reconnect, ... */
  readonly stream: number;
}

export type ApplyResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

export interface XdsClientCallbacks {
  /** Applies one response. May call interest() for other types; those requests go out before the ACK. */
  apply(typeUrl: string, resources: readonly Any__Output[], version: string): ApplyResult;
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

interface Subscription {
  names: readonly string[] | "*";
  version: string;
  nonce: string;
  /** A request for this type was sent on some stream (so reconnects must resend it, even with no names). */
  started: boolean;
}

export class XdsClient {
  private readonly subs = new Map<string, Subscription>();
  private call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  private streamNo = 0;
  private nodeSent = false;
  private connected_ = false;
  private applying = false;
  private readonly queued: string[] = [];
  private retry: TimerHandle | undefined;
  private stopped = true;
  private readonly backoff: JitteredExponentialBackOff;

  constructor(private readonly o: XdsClientOptions) {
    this.backoff = new JitteredExponentialBackOff(500, 30_000, o.random);
  }

  get connected(): boolean {
    return this.connected_;
  }

  /** Accepted version per type URL ("" before the first ACK). */
  versions(): ReadonlyMap<string, string> {
    return new Map([...this.subs].map(([t, s]) => [t, s.version]));
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

  /** What the node watches of a type: "*" (wildcard, CDS/LDS) or resource names. */
  interest(typeUrl: string, names: readonly string[] | "*"): void {
    const sorted = names === "*" ? names : [...new Set(names)].sort();
    let sub = this.subs.get(typeUrl);
    if (sub && sameNames(sub.names, sorted)) return;
    if (!sub) {
      // No request for a type nobody watches yet (Envoy adds a type's subscription with its first watch).
      if (sorted !== "*" && sorted.length === 0) return;
      sub = { names: sorted, version: "", nonce: "", started: false };
      this.subs.set(typeUrl, sub);
    } else {
      sub.names = sorted;
    }
    if (this.applying) {
      if (!this.queued.includes(typeUrl)) this.queued.push(typeUrl);
    } else {
      this.send(typeUrl);
    }
  }

  private open(): void {
    this.streamNo++;
    this.nodeSent = false;
    const call = this.o.client.makeBidiStreamRequest<Buffer, Buffer>(
      ADS_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    this.call = call;
    call.on("data", (bytes: Buffer) => {
      if (this.call === call) this.onResponse(decodeMessage<DiscoveryResponse__Output>(RESPONSE, bytes));
    });
    call.on("status", (s: grpc.StatusObject) => {
      if (this.call === call) this.onStreamEnd(`stream closed: ${s.code} ${s.details}`);
    });
    call.on("error", () => {
      // Reported through "status".
    });
    for (const [typeUrl, sub] of this.subs) {
      sub.nonce = "";
      // Also types whose first watch came while the stream was down.
      if (sub.started || sub.names === "*" || sub.names.length > 0) this.send(typeUrl);
    }
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

  private onResponse(resp: DiscoveryResponse__Output): void {
    this.backoff.reset();
    this.setConnected(true, "response received");
    const sub = this.subs.get(resp.type_url);
    this.o.callbacks.onResponse?.({
      typeUrl: resp.type_url,
      version: resp.version_info,
      nonce: resp.nonce,
      resources: resp.resources.length,
    });
    // Envoy ignores responses for types it does not watch (GrpcMuxImpl "Ignoring unwatched type URL").
    if (!sub) return;
    this.applying = true;
    let result: ApplyResult;
    try {
      result = this.o.callbacks.apply(resp.type_url, resp.resources, resp.version_info);
    } catch (err) {
      result = { ok: false, message: err instanceof Error ? err.message : String(err) };
    } finally {
      this.applying = false;
    }
    for (const t of this.queued.splice(0)) if (t !== resp.type_url) this.send(t);
    sub.nonce = resp.nonce;
    if (result.ok) {
      sub.version = resp.version_info;
      this.send(resp.type_url);
    } else {
      this.send(resp.type_url, { code: NACK_CODE, message: result.message });
    }
  }

  private send(typeUrl: string, errorDetail?: { code: number; message: string }): void {
    const sub = this.subs.get(typeUrl);
    const call = this.call;
    if (!sub || !call) return;
    sub.started = true;
    const withNode = !this.nodeSent;
    const resourceNames = sub.names === "*" ? [] : sub.names;
    const msg: Record<string, unknown> = {
      version_info: sub.version,
      resource_names: resourceNames,
      type_url: typeUrl,
      response_nonce: sub.nonce,
      ...(withNode && { node: this.o.node }),
      ...(errorDetail && { error_detail: errorDetail }),
    };
    this.nodeSent = true;
    call.write(encodeMessage(REQUEST, msg));
    this.o.callbacks.onRequest?.({
      typeUrl,
      resourceNames,
      versionInfo: sub.version,
      responseNonce: sub.nonce,
      withNode,
      ...(errorDetail && { errorDetail }),
      stream: this.streamNo,
    });
  }
}

function sameNames(a: readonly string[] | "*", b: readonly string[] | "*"): boolean {
  if (a === "*" || b === "*") return a === b;
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
