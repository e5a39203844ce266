/**
 * One state-of-the-world xDS stream (ADS, or a single-type service), free of
 * any transport: requests come in decoded, responses go out as bytes.
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
import { LogLimiter } from "../log-limiter";
import { type Logger, boundString } from "../logger";
import { ADS_ORDER, SHORT_NAMES, type TypeUrl, WILDCARD_TYPES } from "../vocabulary/type-urls";
import { type Clock, type TimerHandle, realClock } from "../time/clock";
import type { NackRecord, XdsEvents } from "./events";
import { DEFAULT_LIMITS, GRPC_STATUS, MAX_NACK_MESSAGE, type StreamLimits } from "./limits";
import type { NodeInfo } from "../vocabulary/node-info";
import { nodeInfoFrom } from "./node";
import { nodeProblem } from "./node-limits";
import { ownResponse, sharedResponse } from "./shared-response";
import { RECENT_NONCES, type SentRecord, type StreamStatus, TypeState, sameNames } from "./type-state";

export { DEFAULT_LIMITS, GRPC_STATUS, type StreamLimits } from "./limits";
export type { StreamStatus, TypeStatus } from "./type-state";

export interface StreamTransport {
  send(response: Buffer): void;
  /** Ends the stream with a gRPC status code and message. */
  fail(code: number, details: string): void;
  /**
   * Bytes written and not yet taken by the connection (a client that does
   * not read makes it grow). Absent: the transport never backs up. The
   * transport calls SotwStream.onDrained when it falls below the limit.
   */
  bufferedBytes?(): number;
}

/** Where the stream runs: its clock, its peer's address and the shared warning limiter. */
export interface StreamContext {
  readonly clock?: Clock;
  /** The peer's address, to name it in warnings before it names its node. */
  readonly peer?: string;
  readonly warnings?: LogLimiter;
}

let nextStreamId = 1;

export class SotwStream {
  readonly id = nextStreamId++;
  readonly connectedAt: number;
  private node: NodeInfo | undefined;
  private group: string | undefined;
  private unwatch: (() => void) | undefined;
  private readonly types = new Map<string, TypeState>();
  private readonly ignoredTypes = new Set<string>();
  private closed = false;
  private readonly limits: StreamLimits;
  private readonly clock: Clock;
  private readonly warnings: LogLimiter;
  private blockedSince: number | undefined;
  private blockedTimer: TimerHandle | undefined;
  /**
   * The last status() built, dropped whenever the stream's state may have
   * changed. Other parts scan every stream's status (the admin API, rollout
   * groups, health lookups by node id); with 10,000 streams rebuilding each
   * one on every scan made those scans the largest cost of a push.
   */
  private statusCache: StreamStatus | undefined;

  constructor(
    private readonly cache: SnapshotCache,
    private readonly transport: StreamTransport,
    private readonly events: XdsEvents,
    private readonly logger: Logger,
    /** For single-type services: the one type served (empty type_url means it). */
    private readonly onlyType?: string,
    limits: Partial<StreamLimits> = DEFAULT_LIMITS,
    private readonly context: StreamContext = {},
  ) {
    this.limits = limits === DEFAULT_LIMITS ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, ...limits };
    this.clock = context.clock ?? realClock;
    this.warnings = context.warnings ?? new LogLimiter(logger, this.clock);
    this.connectedAt = this.clock.now();
  }

  onRequest(req: DiscoveryRequest__Output): void {
    if (this.closed) return;
    this.statusCache = undefined;
    if (!this.node) {
      // Envoy sends node on the first request of a stream (set_node_on_first_message_only).
      if (!req.node?.id) {
        this.fail(GRPC_STATUS.INVALID_ARGUMENT, "the first DiscoveryRequest on a stream must carry node with a non-empty id");
        return;
      }
      const node = nodeInfoFrom(req.node);
      const problem = nodeProblem(node, this.limits);
      if (problem) {
        this.fail(GRPC_STATUS.INVALID_ARGUMENT, problem);
        return;
      }
      this.node = node;
      this.group = this.cache.groupOf(this.node);
      this.unwatch = this.cache.watch(this.group, (s) => this.onSnapshot(s));
      this.events.emit({ kind: "connect", streamId: this.id, node: this.node, group: this.group });
      this.logger.info("node connected", { stream: this.id, node: this.node.id, group: this.group });
    }
    const typeUrl = req.type_url || this.onlyType || "";
    if (!this.acceptsType(typeUrl)) return;
    if (!this.withinLimits(typeUrl, req)) return;
    let state = this.types.get(typeUrl);
    const firstForType = !state;
    if (!state) {
      state = new TypeState();
      this.types.set(typeUrl, state);
    }
    const node = this.node;
    if (state.sent && req.response_nonce && req.response_nonce !== state.sent.nonce) {
      // Stale: answers an older response. A late NACK is still worth recording.
      const old = state.recent.get(req.response_nonce);
      if (req.error_detail && old) this.recordNack(state, typeUrl, req, old);
      this.logger.debug("stale request ignored", { stream: this.id, type: typeUrl, nonce: req.response_nonce });
      return;
    }
    // An empty nonce answers nothing sent (the sent record of a reconnect has none): not an ACK or NACK.
    if (state.sent && req.response_nonce && req.response_nonce === state.sent.nonce) {
      if (req.error_detail) {
        this.recordNack(state, typeUrl, req, state.sent);
      } else {
        state.acked = { version: req.version_info, at: this.clock.now() };
        this.events.emit({
          kind: "ack",
          streamId: this.id,
          node,
          typeUrl,
          version: req.version_info,
          resourceNames: state.sent.resourceNames,
        });
      }
    }
    this.updateSubscription(state, typeUrl, req.resource_names, firstForType);
    this.maybeSend(typeUrl, state, firstForType ? req.version_info : undefined);
  }

  /**
   * Re-evaluates the node's group (the group function's answer can change,
   * e.g. when a rollout step adds the node) and pushes whatever differs in
   * the new group's snapshot.
   */
  regroup(): void {
    if (!this.node || this.closed) return;
    this.statusCache = undefined;
    const group = this.cache.groupOf(this.node);
    if (group === this.group) return;
    this.unwatch?.();
    this.group = group;
    this.unwatch = this.cache.watch(group, (s) => this.onSnapshot(s));
    const snapshot = this.cache.getSnapshot(group);
    if (snapshot) this.onSnapshot(snapshot);
  }

  /**
   * The transport took enough of what was written to go below the limit:
   * send the newest response of every type that was held back, in ADS order.
   */
  onDrained(): void {
    if (this.closed || this.blocked()) return;
    this.unblock();
    for (const typeUrl of ADS_ORDER) {
      const state = this.types.get(typeUrl);
      if (state?.pending) {
        state.pending = false;
        this.maybeSend(typeUrl, state);
      }
    }
  }

  /** The node, once the first request named it. */
  get nodeInfo(): NodeInfo | undefined {
    return this.node;
  }

  onClose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.statusCache = undefined;
    this.unwatch?.();
    this.blockedTimer?.cancel();
    this.blockedTimer = undefined;
    if (this.node) {
      this.events.emit({ kind: "disconnect", streamId: this.id, node: this.node, reason });
      this.logger.info("node disconnected", { stream: this.id, node: this.node.id, reason });
    }
  }

  status(): StreamStatus {
    this.statusCache ??= {
      streamId: this.id,
      node: this.node,
      group: this.group,
      connectedAt: this.connectedAt,
      ignoredTypes: [...this.ignoredTypes],
      types: [...this.types.entries()].map(([typeUrl, s]) => ({
        typeUrl,
        wildcard: s.wildcard,
        names: s.namesList,
        sent: s.sent && { version: s.sent.version, nonce: s.sent.nonce, at: s.sent.at, resourceNames: s.sent.resourceNames },
        acked: s.acked,
        nack: s.nack,
      })),
      ...(this.blockedSince !== undefined && { blockedSince: this.blockedSince }),
    };
    return this.statusCache;
  }

  /** Who the peer is, for warnings and their rate limit: the node id once known, else its address. */
  private get peer(): string {
    return this.node?.id ?? this.context.peer ?? `stream ${this.id}`;
  }

  private withinLimits(typeUrl: string, req: DiscoveryRequest__Output): boolean {
    const l = this.limits;
    if (req.resource_names.length > l.maxResourceNames) {
      this.fail(GRPC_STATUS.RESOURCE_EXHAUSTED, `${typeUrl}: resource_names has ${req.resource_names.length} entries, the limit is ${l.maxResourceNames}`);
      return false;
    }
    const long = req.resource_names.find((n) => n.length > l.maxNameLength);
    if (long !== undefined) {
      this.fail(GRPC_STATUS.INVALID_ARGUMENT, `${typeUrl}: a resource name is ${long.length} characters long, the limit is ${l.maxNameLength}`);
      return false;
    }
    for (const [field, value] of [
      ["version_info", req.version_info],
      ["response_nonce", req.response_nonce],
    ] as const) {
      if (value.length > l.maxVersionLength) {
        this.fail(GRPC_STATUS.INVALID_ARGUMENT, `${typeUrl}: ${field} is ${value.length} characters long, the limit is ${l.maxVersionLength}`);
        return false;
      }
    }
    return true;
  }

  private acceptsType(typeUrl: string): boolean {
    const known = this.onlyType ? typeUrl === this.onlyType : (ADS_ORDER as readonly string[]).includes(typeUrl);
    if (known) return true;
    // Envoy may subscribe to types this server does not serve (SDS, VHDS, ...):
    // ignore them, so that the rest of the stream keeps working. Remembered
    // (for status) and warned about once per type, a bounded number of them.
    const shown = boundString(typeUrl || "(empty type_url)", 256);
    if (!this.ignoredTypes.has(shown) && this.ignoredTypes.size < this.limits.maxIgnoredTypes) {
      this.ignoredTypes.add(shown);
      this.warnings.warn(`ignored-type|${this.peer}`, "ignoring subscription to a type this server does not serve", {
        stream: this.id,
        node: this.node?.id,
        type: shown,
      });
    }
    return false;
  }

  private updateSubscription(state: TypeState, typeUrl: string, names: readonly string[], first: boolean): void {
    // Legacy wildcard: an empty first request for LDS/CDS; explicit wildcard: "*".
    const wildcard = names.includes("*") || (WILDCARD_TYPES.has(typeUrl) && names.length === 0 && (first || state.wildcard));
    const wanted = wildcard ? names.filter((n) => n !== "*") : names;
    // Most requests are ACKs repeating the subscription: keep the set.
    if (!first && wildcard === state.wildcard && sameNames(state.names, wanted)) return;
    state.wildcard = wildcard;
    state.names = new Set(wanted);
    state.namesList = Object.freeze([...state.names]);
    state.subscription++;
  }

  private onSnapshot(snapshot: Snapshot): void {
    if (this.closed) return;
    this.statusCache = undefined;
    // Push changed types in make-before-break order (CDS, EDS, ECDS, LDS, RDS).
    for (const typeUrl of ADS_ORDER) {
      const state = this.types.get(typeUrl);
      if (state) this.maybeSend(typeUrl, state, undefined, snapshot);
    }
  }

  private maybeSend(typeUrl: string, state: TypeState, clientVersion?: string, given?: Snapshot): void {
    if (this.group === undefined) return;
    const snapshot = given ?? this.cache.getSnapshot(this.group);
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
    if (!state.sent && clientVersion && clientVersion === body.version) {
      // Reconnect: the node already holds exactly this version.
      state.sent = { version: body.version, nonce: "", subscription, resourceNames: body.resourceNames, at: now };
      state.sentTypeVersion = type.version;
      state.acked = { version: body.version, at: now };
      return;
    }
    if (state.nack && state.nack.rejectedVersion === body.version && state.sent?.subscription === subscription) return;
    if (this.blocked()) {
      // Decided again, on the newest snapshot, when the stream drains.
      state.pending = true;
      this.block();
      return;
    }
    const shared = sharedResponse(body);
    let nonce = shared.nonce;
    let bytes = shared.bytes;
    if (shared.seq > state.lastSharedSeq) {
      state.lastSharedSeq = shared.seq;
    } else {
      ({ nonce, bytes } = ownResponse(body));
    }
    const sent: SentRecord = { version: body.version, nonce, subscription, resourceNames: body.resourceNames, at: now };
    state.sent = sent;
    state.sentTypeVersion = type.version;
    state.recent.set(nonce, sent);
    if (state.recent.size > RECENT_NONCES) state.recent.delete(state.recent.keys().next().value as string);
    this.transport.send(bytes);
    if (this.blocked()) this.block();
    if (this.node) {
      this.events.emit({ kind: "push", streamId: this.id, node: this.node, typeUrl, version: body.version, nonce, resourceNames: sent.resourceNames });
      this.logger.debug("pushed", { stream: this.id, node: this.node.id, type: SHORT_NAMES[typeUrl as TypeUrl] ?? typeUrl, version: body.version });
    }
  }

  private blocked(): boolean {
    const buffered = this.transport.bufferedBytes?.();
    return buffered !== undefined && buffered >= this.limits.maxBufferedBytes;
  }

  /** Notes that the stream is blocked and arms its timeout (once). */
  private block(): void {
    if (this.blockedSince !== undefined) return;
    this.blockedSince = this.clock.now();
    this.statusCache = undefined;
    this.blockedTimer = this.clock.setTimeout(() => this.onBlockedTimeout(), this.limits.blockedTimeoutMs);
  }

  private unblock(): void {
    if (this.blockedSince === undefined) return;
    this.blockedTimer?.cancel();
    this.blockedTimer = undefined;
    this.blockedSince = undefined;
    this.statusCache = undefined;
  }

  private onBlockedTimeout(): void {
    this.blockedTimer = undefined;
    if (this.closed || !this.blocked()) {
      this.unblock();
      return;
    }
    const buffered = this.transport.bufferedBytes?.() ?? 0;
    this.fail(
      GRPC_STATUS.RESOURCE_EXHAUSTED,
      `the client did not read its responses: ${buffered} bytes waited to be taken for ${this.limits.blockedTimeoutMs} ms, over the limit of ${this.limits.maxBufferedBytes} bytes (maxBufferedBytes, blockedTimeoutMs)`,
      "closing a stream that does not read its responses",
    );
  }

  private recordNack(state: TypeState, typeUrl: string, req: DiscoveryRequest__Output, sent: SentRecord): void {
    if (!this.node) return;
    // Once per nonce: repeating a NACK says nothing new (issue 11, item 7).
    if (state.nacked.has(sent.nonce)) return;
    state.nacked.add(sent.nonce);
    if (state.nacked.size > RECENT_NONCES) state.nacked.delete(state.nacked.values().next().value as string);
    const nack: NackRecord = Object.freeze({
      nodeId: this.node.id,
      streamId: this.id,
      typeUrl,
      rejectedVersion: sent.version,
      keptVersion: req.version_info,
      nonce: sent.nonce,
      message: boundString(req.error_detail?.message ?? "", MAX_NACK_MESSAGE),
      code: req.error_detail?.code ?? 0,
      resourceNames: sent.resourceNames,
      at: this.clock.now(),
    });
    state.nack = nack;
    this.events.emit({ kind: "nack", node: this.node, nack });
    this.warnings.warn(`nack|${this.peer}`, "NACK", { stream: this.id, node: this.node.id, type: typeUrl, version: sent.version, error: nack.message });
  }

  private fail(code: number, details: string, why = "closing stream on bad request"): void {
    this.warnings.warn(`bad-request|${this.peer}`, why, { stream: this.id, node: this.node?.id, peer: this.context.peer, code, details });
    this.transport.fail(code, details);
    this.onClose(details);
  }
}
