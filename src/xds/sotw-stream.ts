/**
 * One state-of-the-world xDS stream (ADS, or a single-type service), free of
 * any transport: requests come in decoded, responses go out as bytes. What
 * it shares with the delta protocol (node, nonces, ACK/NACK recording,
 * ordering, limits, backpressure) is in stream-base.ts.
 *
 * Protocol rules (xDS REST/gRPC protocol docs, "ACK/NACK and resource type
 * instance version", "When to send an update"):
 * - every response carries a fresh nonce; a request whose response_nonce is
 *   not the last one sent for its type is stale and ignored;
 * - a request with error_detail is a NACK of the version sent with that
 *   nonce: it is recorded once per nonce (a client repeating one NACK
 *   20,000 times is one NACK), and that version is not sent again on this
 *   stream (go-control-plane #962 resends it forever); a different version is;
 * - a node reconnecting with the version it already holds is not sent it again;
 * - a response is sent only when what the stream subscribes to changed;
 * - backpressure: while more than limits.maxBufferedBytes are written and not
 *   yet taken by the connection, nothing more is written. In state of the
 *   world each response replaces the last of its type, so when the stream
 *   drains it is sent the newest version of each type that changed
 *   (intermediate versions are skipped, never a stale one; nonces are made
 *   when the response is written). A stream blocked longer than
 *   limits.blockedTimeoutMs is closed with RESOURCE_EXHAUSTED.
 */
import type { ResponseBody, Snapshot } from "../cache/snapshot";
import type { SnapshotCache } from "../cache/snapshot-cache";
import type { DiscoveryRequest__Output } from "../generated/envoy/service/discovery/v3/DiscoveryRequest";
import type { Logger } from "../logger";
import { WILDCARD_TYPES } from "../vocabulary/type-urls";
import type { XdsEvents } from "./events";
import { DEFAULT_LIMITS, type StreamLimits } from "./limits";
import { ownResponse, sharedResponse } from "./shared-response";
import { type StreamContext, type StreamTransport, XdsStream } from "./stream-base";
import { type SentRecord, TypeState, sameNames } from "./type-state";

export { DEFAULT_LIMITS, GRPC_STATUS, type StreamLimits } from "./limits";
export type { StreamContext, StreamTransport } from "./stream-base";
export type { StreamStatus, TypeStatus } from "./type-state";

export class SotwStream extends XdsStream {
  readonly protocol = "sotw" as const;

  constructor(
    cache: SnapshotCache,
    transport: StreamTransport,
    events: XdsEvents,
    logger: Logger,
    /** For single-type services: the one type served (empty type_url means it). */
    private readonly onlyType?: string,
    limits: Partial<StreamLimits> = DEFAULT_LIMITS,
    context: StreamContext = {},
  ) {
    super(cache, transport, events, logger, limits, context);
  }

  onRequest(req: DiscoveryRequest__Output): void {
    if (this.closed) return;
    this.statusCache = undefined;
    if (!this.identify(req.node)) return;
    const typeUrl = req.type_url || this.onlyType || "";
    if (!this.acceptsType(typeUrl, this.onlyType)) return;
    if (!this.namesWithinLimits(typeUrl, "resource_names", req.resource_names)) return;
    if (!this.stringsWithinLimits(typeUrl, [["version_info", req.version_info], ["response_nonce", req.response_nonce]])) return;
    const { state, first } = this.stateOf(typeUrl, () => new TypeState());
    // Stale: answers an older response, and says nothing about the subscription (a late NACK is still recorded).
    if (this.settle(state, typeUrl, req.response_nonce, req.error_detail, req.version_info) === "stale") return;
    this.updateSubscription(state, typeUrl, req.resource_names, first);
    // What a reconnecting node says it holds, kept until a response is decided: the group's snapshot may come later
    // (a worker's stream before the main process placed it, a group not built yet), and must not resend it then.
    if (first) state.clientVersion = req.version_info;
    this.sendFor(typeUrl, state);
  }

  private updateSubscription(state: TypeState, typeUrl: string, names: readonly string[], first: boolean): void {
    // Legacy wildcard: an empty first request for LDS/CDS; explicit wildcard: "*".
    const wildcard = names.includes("*") || (WILDCARD_TYPES.has(typeUrl) && names.length === 0 && (first || state.wildcard));
    const wanted = wildcard ? names.filter((n) => n !== "*") : names;
    // Most requests are ACKs repeating the subscription: keep the set.
    if (!first && wildcard === state.wildcard && sameNames(state.names, wanted)) return;
    state.setSubscription(wildcard, wanted);
    this.subscribed();
  }

  protected override maybeSend(typeUrl: string, state: TypeState, given?: Snapshot): void {
    this.sendFor(typeUrl, state, given);
  }

  private sendFor(typeUrl: string, state: TypeState, given?: Snapshot): void {
    const snapshot = this.snapshotFor(given);
    if (!snapshot) return;
    if (!state.wildcard && state.names.size === 0) return;
    const subscription = state.subscription;
    const type = snapshot.type(typeUrl);
    // Unchanged type and subscription give the response already decided on:
    // a push costs nothing for the types it does not change.
    if (state.sent && state.sentTypeVersion === type.version && state.sent.subscription === subscription) return;
    const body: ResponseBody = type.response(state.wildcard ? "*" : state.names);
    if (state.sent && state.sent.version === body.version && state.sent.subscription === subscription) {
      state.sentTypeVersion = type.version;
      return;
    }
    const now = this.clock.now();
    if (!state.sent && state.clientVersion && state.clientVersion === body.version) {
      // Reconnect: the node already holds exactly this version.
      state.sent = { version: body.version, nonce: "", subscription, resourceNames: body.resourceNames, at: now };
      state.sentTypeVersion = type.version;
      state.acked = { version: body.version, at: now };
      // No ACK event says so: tell whoever mirrors the status (workers/).
      this.subscribed();
      return;
    }
    // NACKed: not sent again on this stream (go-control-plane #962 resends it forever); a different version is.
    if (state.nack && state.nack.rejectedVersion === body.version && state.sent?.subscription === subscription) return;
    if (this.holdBack(state)) return;
    const shared = sharedResponse(body);
    let nonce = shared.nonce;
    let bytes = shared.bytes;
    if (shared.seq > state.lastSharedSeq) {
      state.lastSharedSeq = shared.seq;
    } else {
      ({ nonce, bytes } = ownResponse(body));
    }
    const sent: SentRecord = { version: body.version, nonce, subscription, resourceNames: body.resourceNames, at: now };
    state.sentTypeVersion = type.version;
    this.write(typeUrl, state, bytes, sent);
  }
}
