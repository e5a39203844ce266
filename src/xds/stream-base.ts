/**
 * What every xDS stream does, whatever its protocol (state of the world,
 * sotw-stream.ts; incremental, delta-stream.ts): one place for the rules
 * both must keep alike, so the two protocols cannot drift apart.
 *
 * - the node: named on the first request, checked against the limits, its
 *   group's snapshot watched; connect and disconnect events;
 * - nonces: every response carries a fresh one; the last RECENT_NONCES per
 *   type are remembered so that a late NACK is still attributed;
 * - ACK/NACK: a request answering the last nonce of its type is an ACK, or
 *   a NACK when it carries error_detail; a NACK is recorded once per nonce,
 *   per node and type (the same NackRecord and event feed the health
 *   monitor and its rollbacks for both protocols); an answer to an older
 *   nonce is stale;
 * - ordering: a new snapshot is pushed type by type in ADS_ORDER (CDS, EDS,
 *   ECDS, LDS, RDS: make-before-break), and so is what backpressure held back;
 * - limits: request sizes (StreamLimits), unserved types remembered at most
 *   maxIgnoredTypes, backpressure (maxBufferedBytes, blockedTimeoutMs);
 * - status for the admin API, cached until the stream's state changes.
 * What differs (how a request subscribes, what a response carries) is left
 * to the subclass: `maybeSend` decides and builds a response for one type.
 */
import type { Snapshot } from "../cache/snapshot";
import type { SnapshotCache } from "../cache/snapshot-cache";
import type { Node__Output } from "../generated/envoy/config/core/v3/Node";
import { LogLimiter } from "../log-limiter";
import { type Logger, boundString } from "../logger";
import { type Clock, realClock } from "../time/clock";
import type { NodeInfo } from "../vocabulary/node-info";
import { ADS_ORDER, SHORT_NAMES, type TypeUrl } from "../vocabulary/type-urls";
import { Backpressure } from "./backpressure";
import type { NackRecord, XdsEvents } from "./events";
import { DEFAULT_LIMITS, GRPC_STATUS, MAX_NACK_MESSAGE, type StreamLimits } from "./limits";
import { nodeInfoFrom } from "./node";
import { nodeProblem } from "./node-limits";
import { RECENT_NONCES, type SentRecord, type StreamStatus, type TypeState, type XdsProtocol } from "./type-state";

export interface StreamTransport {
  send(response: Buffer): void;
  /** Ends the stream with a gRPC status code and message. */
  fail(code: number, details: string): void;
  /**
   * Bytes written and not yet taken by the connection (a client that does
   * not read makes it grow). Absent: the transport never backs up. The
   * transport calls onDrained when it falls below the limit.
   */
  bufferedBytes?(): number;
}

/**
 * Told of the changes to a stream's status that no XdsEvent carries: its
 * subscription (or the types it asked for and is not served), and whether
 * it is blocked. A worker process reports them to the main process, whose
 * mirror of every stream's status the admin API reads (workers/).
 */
export interface StreamObserver {
  subscriptionChanged(stream: XdsStream): void;
  blockedChanged(stream: XdsStream): void;
}

/** Where the stream runs: its clock, its peer's address and the shared warning limiter. */
export interface StreamContext {
  readonly clock?: Clock;
  /** The peer's address, to name it in warnings before it names its node. */
  readonly peer?: string;
  readonly warnings?: LogLimiter;
  readonly observer?: StreamObserver;
}

/** How a request answered the type's responses: see XdsStream.settle. */
export type Answer = "none" | "current" | "stale";

let nextStreamId = 1;
let streamIdStride = 1;

/**
 * Makes this process number its streams first, first + stride, ...: each
 * worker process takes its own residue, so stream ids are unique across
 * the workers and the main process refers to a stream by its id alone.
 */
export function setStreamIdSpace(first: number, stride: number): void {
  nextStreamId = first;
  streamIdStride = stride;
}

function takeStreamId(): number {
  const id = nextStreamId;
  nextStreamId += streamIdStride;
  return id;
}

export abstract class XdsStream<S extends TypeState = TypeState> {
  readonly id = takeStreamId();
  readonly connectedAt: number;
  abstract readonly protocol: XdsProtocol;
  protected node: NodeInfo | undefined;
  protected group: string | undefined;
  private unwatch: (() => void) | undefined;
  protected readonly types = new Map<string, S>();
  private readonly ignoredTypes = new Set<string>();
  protected closed = false;
  protected readonly limits: StreamLimits;
  protected readonly clock: Clock;
  protected readonly warnings: LogLimiter;
  private readonly backpressure: Backpressure;
  /**
   * The last status() built, dropped whenever the stream's state may have
   * changed. Other parts scan every stream's status (the admin API, rollout
   * groups, health lookups by node id); with 10,000 streams rebuilding each
   * one on every scan made those scans the largest cost of a push.
   */
  protected statusCache: StreamStatus | undefined;

  constructor(
    protected readonly cache: SnapshotCache,
    protected readonly transport: StreamTransport,
    protected readonly events: XdsEvents,
    protected readonly logger: Logger,
    limits: Partial<StreamLimits> = DEFAULT_LIMITS,
    protected readonly context: StreamContext = {},
  ) {
    this.limits = limits === DEFAULT_LIMITS ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, ...limits };
    this.clock = context.clock ?? realClock;
    this.warnings = context.warnings ?? new LogLimiter(logger, this.clock);
    this.connectedAt = this.clock.now();
    this.backpressure = new Backpressure(
      transport.bufferedBytes && (() => transport.bufferedBytes?.() ?? 0),
      this.limits,
      this.clock,
      (details) => {
        if (!this.closed) this.fail(GRPC_STATUS.RESOURCE_EXHAUSTED, details, "closing a stream that does not read its responses");
      },
      () => {
        this.statusCache = undefined;
        context.observer?.blockedChanged(this);
      },
    );
  }

  /** Decides, and sends if due, the response of one type (on `given`, or the group's snapshot). */
  protected abstract maybeSend(typeUrl: string, state: S, given?: Snapshot): void;

  /** The node, once the first request named it. */
  get nodeInfo(): NodeInfo | undefined {
    return this.node;
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
    if (this.closed || this.backpressure.blocked()) return;
    this.backpressure.unblock();
    for (const typeUrl of ADS_ORDER) {
      const state = this.types.get(typeUrl);
      if (state?.pending) {
        state.pending = false;
        this.maybeSend(typeUrl, state);
      }
    }
  }

  onClose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.statusCache = undefined;
    this.unwatch?.();
    this.backpressure.cancel();
    if (this.node) {
      this.events.emit({ kind: "disconnect", streamId: this.id, node: this.node, reason });
      this.logger.info("node disconnected", { stream: this.id, node: this.node.id, reason, protocol: this.protocol });
    }
  }

  status(): StreamStatus {
    this.statusCache ??= {
      streamId: this.id,
      protocol: this.protocol,
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
      ...(this.backpressure.since !== undefined && { blockedSince: this.backpressure.since }),
    };
    return this.statusCache;
  }

  /**
   * Names the node on the stream's first request (Envoy sends node on the
   * first request only: set_node_on_first_message_only). false: the stream
   * was failed.
   */
  protected identify(node: Node__Output | null | undefined): boolean {
    if (this.node) return true;
    if (!node?.id) {
      this.fail(GRPC_STATUS.INVALID_ARGUMENT, `the first ${this.requestName} on a stream must carry node with a non-empty id`);
      return false;
    }
    const info = nodeInfoFrom(node);
    const problem = nodeProblem(info, this.limits);
    if (problem) {
      this.fail(GRPC_STATUS.INVALID_ARGUMENT, problem);
      return false;
    }
    this.node = info;
    this.group = this.cache.groupOf(info);
    this.unwatch = this.cache.watch(this.group, (s) => this.onSnapshot(s));
    this.events.emit({ kind: "connect", streamId: this.id, node: info, group: this.group });
    this.logger.info("node connected", { stream: this.id, node: info.id, group: this.group, protocol: this.protocol });
    return true;
  }

  private get requestName(): string {
    return this.protocol === "delta" ? "DeltaDiscoveryRequest" : "DiscoveryRequest";
  }

  /**
   * Whether the stream serves `typeUrl`. Envoy may subscribe to types this
   * server does not serve (SDS, VHDS, ...): they are ignored, so that the
   * rest of the stream keeps working; remembered (for status) and warned
   * about once per type, a bounded number of them.
   */
  protected acceptsType(typeUrl: string, onlyType?: string): boolean {
    const known = onlyType ? typeUrl === onlyType : (ADS_ORDER as readonly string[]).includes(typeUrl);
    if (known) return true;
    const shown = boundString(typeUrl || "(empty type_url)", 256);
    if (!this.ignoredTypes.has(shown) && this.ignoredTypes.size < this.limits.maxIgnoredTypes) {
      this.ignoredTypes.add(shown);
      this.context.observer?.subscriptionChanged(this);
      this.warnings.warn(`ignored-type|${this.peer}`, "ignoring subscription to a type this server does not serve", {
        stream: this.id,
        node: this.node?.id,
        type: shown,
      });
    }
    return false;
  }

  /** A type's subscription changed, or it counts as ACKed with no ACK event (subclasses call it; the observer reports both). */
  protected subscribed(): void {
    this.context.observer?.subscriptionChanged(this);
  }

  /** When the stream became blocked (backpressure), while it is. */
  get blockedSince(): number | undefined {
    return this.backpressure.since;
  }

  /**
   * What status() gives of the subscription: per type, wildcard, names and
   * the version ACKed (also when no ACK event said so: a reconnecting client
   * that already holds what it would be sent); and the ignored types.
   */
  subscriptions(): { types: Array<readonly [string, boolean, readonly string[], string | null]>; ignored: string[] } {
    return { types: [...this.types].map(([typeUrl, s]) => [typeUrl, s.wildcard, s.namesList, s.acked?.version ?? null] as const), ignored: [...this.ignoredTypes] };
  }

  /** The state of a type, made on its first request; `first` says whether it was. */
  protected stateOf(typeUrl: string, make: () => S): { state: S; first: boolean } {
    const held = this.types.get(typeUrl);
    if (held) return { state: held, first: false };
    const state = make();
    this.types.set(typeUrl, state);
    return { state, first: true };
  }

  /** A list of names from the peer within maxResourceNames and maxNameLength; false: the stream was failed. */
  protected namesWithinLimits(typeUrl: string, field: string, names: readonly string[], count = names.length): boolean {
    const l = this.limits;
    if (count > l.maxResourceNames) {
      this.fail(GRPC_STATUS.RESOURCE_EXHAUSTED, `${typeUrl}: ${field} has ${count} entries, the limit is ${l.maxResourceNames}`);
      return false;
    }
    const long = names.find((n) => n.length > l.maxNameLength);
    if (long !== undefined) {
      this.fail(GRPC_STATUS.INVALID_ARGUMENT, `${typeUrl}: a resource name in ${field} is ${long.length} characters long, the limit is ${l.maxNameLength}`);
      return false;
    }
    return true;
  }

  /** Version-like strings (version_info, response_nonce, resource versions) within maxVersionLength. */
  protected stringsWithinLimits(typeUrl: string, fields: ReadonlyArray<readonly [string, string]>): boolean {
    for (const [field, value] of fields) {
      if (value.length > this.limits.maxVersionLength) {
        this.fail(GRPC_STATUS.INVALID_ARGUMENT, `${typeUrl}: ${field} is ${value.length} characters long, the limit is ${this.limits.maxVersionLength}`);
        return false;
      }
    }
    return true;
  }

  /**
   * Reads a request's response_nonce and error_detail. An empty nonce
   * answers nothing ("none"; the sent record of a reconnect has none). The
   * last nonce sent: an ACK (of `clientVersion`, or of what was sent when
   * the protocol's ACK names no version) or a NACK ("current"). An older
   * nonce: "stale", and a late NACK of a recent one is still recorded.
   */
  protected settle(
    state: S,
    typeUrl: string,
    nonce: string,
    error: { readonly message: string; readonly code: number } | null | undefined,
    clientVersion: string | undefined,
  ): Answer {
    if (!nonce || !state.sent || !this.node) return "none";
    if (nonce !== state.sent.nonce) {
      const old = state.recent.get(nonce);
      if (error && old) this.recordNack(state, typeUrl, error, clientVersion, old);
      this.logger.debug("stale request", { stream: this.id, type: typeUrl, nonce });
      return "stale";
    }
    if (error) {
      this.recordNack(state, typeUrl, error, clientVersion, state.sent);
    } else {
      const version = clientVersion ?? state.sent.version;
      state.acked = { version, at: this.clock.now() };
      this.events.emit({ kind: "ack", streamId: this.id, node: this.node, typeUrl, version, resourceNames: state.sent.resourceNames });
    }
    return "current";
  }

  /** Pushes a new snapshot type by type, in make-before-break order (CDS, EDS, ECDS, LDS, RDS). */
  protected onSnapshot(snapshot: Snapshot): void {
    if (this.closed) return;
    this.statusCache = undefined;
    for (const typeUrl of ADS_ORDER) {
      const state = this.types.get(typeUrl);
      if (state) this.maybeSend(typeUrl, state, snapshot);
    }
  }

  /** The group's snapshot (or the one given), once the node is known. */
  protected snapshotFor(given?: Snapshot): Snapshot | undefined {
    if (this.group === undefined) return undefined;
    return given ?? this.cache.getSnapshot(this.group);
  }

  /**
   * Backpressure: true when the response must wait (marked pending, decided
   * again on the newest snapshot when the stream drains).
   */
  protected holdBack(state: S): boolean {
    if (!this.backpressure.blocked()) return false;
    state.pending = true;
    this.backpressure.block();
    return true;
  }

  /** Writes a response and does the bookkeeping every protocol shares: nonce memory, push event, backpressure. */
  protected write(typeUrl: string, state: S, bytes: Buffer, sent: SentRecord): void {
    state.sent = sent;
    state.recent.set(sent.nonce, sent);
    if (state.recent.size > RECENT_NONCES) state.recent.delete(state.recent.keys().next().value as string);
    this.transport.send(bytes);
    if (this.backpressure.blocked()) this.backpressure.block();
    if (this.node) {
      this.events.emit({ kind: "push", streamId: this.id, node: this.node, typeUrl, version: sent.version, nonce: sent.nonce, resourceNames: sent.resourceNames });
      this.logger.debug("pushed", { stream: this.id, node: this.node.id, type: SHORT_NAMES[typeUrl as TypeUrl] ?? typeUrl, version: sent.version, protocol: this.protocol });
    }
  }

  /** Who the peer is, for warnings and their rate limit: the node id once known, else its address. */
  protected get peer(): string {
    return this.node?.id ?? this.context.peer ?? `stream ${this.id}`;
  }

  protected fail(code: number, details: string, why = "closing stream on bad request"): void {
    this.warnings.warn(`bad-request|${this.peer}`, why, { stream: this.id, node: this.node?.id, peer: this.context.peer, code, details });
    this.transport.fail(code, details);
    this.onClose(details);
  }

  private recordNack(
    state: S,
    typeUrl: string,
    error: { readonly message: string; readonly code: number },
    clientVersion: string | undefined,
    sent: SentRecord,
  ): void {
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
      // Delta NACKs carry no version: the node keeps what it last ACKed.
      keptVersion: clientVersion ?? state.acked?.version ?? "",
      nonce: sent.nonce,
      message: boundString(error.message, MAX_NACK_MESSAGE),
      code: error.code,
      resourceNames: sent.resourceNames,
      at: this.clock.now(),
    });
    state.nack = nack;
    this.events.emit({ kind: "nack", node: this.node, nack });
    this.warnings.warn(`nack|${this.peer}`, "NACK", { stream: this.id, node: this.node.id, type: typeUrl, version: sent.version, error: nack.message });
  }
}
