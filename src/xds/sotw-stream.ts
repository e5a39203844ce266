/**
 * One state-of-the-world xDS stream (ADS, or a single-type service), free of
 * any transport: requests come in decoded, responses go out as bytes.
 *
 * Protocol rules (xDS REST/gRPC protocol docs, "ACK/NACK and resource type
 * instance version", "When to send an update"):
 * - every response carries a fresh nonce; a request whose response_nonce is
 *   not the last one sent for its type is stale and ignored;
 * - a request with error_detail is a NACK of the version sent with that
 *   nonce: it is recorded, and that version is not sent again on this stream
 *   (go-control-plane #962 resends it forever); a different version is;
 * - a node reconnecting with the version it already holds is not sent it again;
 * - a response is sent only when what the stream subscribes to changed.
 */
import type { ResponseBody, Snapshot } from "../cache/snapshot";
import type { SnapshotCache } from "../cache/snapshot-cache";
import { stringField } from "../cache/resource";
import type { DiscoveryRequest__Output } from "../generated/envoy/service/discovery/v3/DiscoveryRequest";
import type { Logger } from "../logger";
import { ADS_ORDER, SHORT_NAMES, type TypeUrl, WILDCARD_TYPES } from "../resources/type-urls";
import type { NackRecord, XdsEvents } from "./events";
import { type NodeInfo, nodeInfoFrom } from "./node";

export interface StreamTransport {
  send(response: Buffer): void;
  /** Ends the stream with a gRPC status code and message. */
  fail(code: number, details: string): void;
}

export interface StreamLimits {
  /** Most resource names one request may carry. */
  readonly maxResourceNames: number;
  /** Longest resource name accepted. */
  readonly maxNameLength: number;
}

export const DEFAULT_LIMITS: StreamLimits = Object.freeze({ maxResourceNames: 10_000, maxNameLength: 4096 });

/** gRPC status codes used at the stream boundary. */
export const GRPC_STATUS = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8 } as const;

interface SentRecord {
  readonly version: string;
  readonly nonce: string;
  readonly namesKey: string;
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

export interface StreamStatus {
  readonly streamId: number;
  readonly node?: NodeInfo;
  readonly group?: string;
  readonly connectedAt: number;
  readonly types: readonly TypeStatus[];
  readonly ignoredTypes: readonly string[];
}

class TypeState {
  wildcard = false;
  names = new Set<string>();
  /** The subscription as a cache key ("*", or the sorted names), kept with `names` and `wildcard`. */
  namesKey = "";
  /** `names` as a frozen list for status(), shared rather than copied on every status. */
  namesList: readonly string[] = Object.freeze([]);
  sent: SentRecord | undefined;
  /** The type's version in the snapshot `sent` was decided on: same version, same subscription, same response. */
  sentTypeVersion: string | undefined;
  /** The newest shared response this stream was sent (see sharedResponse). */
  lastSharedSeq = 0;
  acked: { version: string; at: number } | undefined;
  nack: NackRecord | undefined;
  /** Recent nonce -> version, to attribute late NACKs. */
  readonly recent = new Map<string, SentRecord>();
}

/**
 * A response body with a nonce, built once and written to every stream that
 * is sent that body (the "one encode per version, then one write per
 * stream" of issue 8: no per-stream copy or allocation). Its nonce is then
 * the same on those streams, which the protocol allows: a nonce only has to
 * identify a response within its stream. Each body's nonce comes from the
 * same counter as every other nonce, and a stream takes a shared one only
 * if it is newer than the last shared one it took, so no nonce is ever
 * sent twice on a stream (a body sent to a stream again, e.g. after a
 * subscription went A -> B -> A, gets a fresh nonce of its own).
 */
interface SharedResponse {
  readonly seq: number;
  readonly nonce: string;
  readonly bytes: Buffer;
}
const sharedResponses = new WeakMap<ResponseBody, SharedResponse>();

function sharedResponse(body: ResponseBody): SharedResponse {
  let shared = sharedResponses.get(body);
  if (!shared) {
    const seq = ++nonceCounter;
    const nonce = seq.toString(36);
    shared = { seq, nonce, bytes: withNonce(body.body, nonce) };
    sharedResponses.set(body, shared);
  }
  return shared;
}

/** body + field 5 (nonce), in one allocation. */
function withNonce(body: Buffer, nonce: string): Buffer {
  const field = stringField(5, nonce);
  const out = Buffer.allocUnsafe(body.length + field.length);
  body.copy(out, 0);
  field.copy(out, body.length);
  return out;
}

let nextStreamId = 1;
let nonceCounter = 0;

export class SotwStream {
  readonly id = nextStreamId++;
  readonly connectedAt = Date.now();
  private node: NodeInfo | undefined;
  private group: string | undefined;
  private unwatch: (() => void) | undefined;
  private readonly types = new Map<string, TypeState>();
  private readonly ignoredTypes = new Set<string>();
  private closed = false;
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
    private readonly limits: StreamLimits = DEFAULT_LIMITS,
  ) {}

  onRequest(req: DiscoveryRequest__Output): void {
    if (this.closed) return;
    this.statusCache = undefined;
    if (!this.node) {
      // Envoy sends node on the first request of a stream (set_node_on_first_message_only).
      if (!req.node?.id) {
        this.fail(GRPC_STATUS.INVALID_ARGUMENT, "the first DiscoveryRequest on a stream must carry node with a non-empty id");
        return;
      }
      this.node = nodeInfoFrom(req.node);
      this.group = this.cache.groupOf(this.node);
      this.unwatch = this.cache.watch(this.group, (s) => this.onSnapshot(s));
      this.events.emit({ kind: "connect", streamId: this.id, node: this.node, group: this.group });
      this.logger.info("node connected", { stream: this.id, node: this.node.id, group: this.group });
    }
    const typeUrl = req.type_url || this.onlyType || "";
    if (!this.acceptsType(typeUrl)) return;
    if (req.resource_names.length > this.limits.maxResourceNames) {
      this.fail(
        GRPC_STATUS.RESOURCE_EXHAUSTED,
        `${typeUrl}: resource_names has ${req.resource_names.length} entries, the limit is ${this.limits.maxResourceNames}`,
      );
      return;
    }
    const long = req.resource_names.find((n) => n.length > this.limits.maxNameLength);
    if (long !== undefined) {
      this.fail(GRPC_STATUS.INVALID_ARGUMENT, `${typeUrl}: a resource name is ${long.length} characters long, the limit is ${this.limits.maxNameLength}`);
      return;
    }
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
    if (state.sent && req.response_nonce === state.sent.nonce) {
      if (req.error_detail) {
        this.recordNack(state, typeUrl, req, state.sent);
      } else {
        state.acked = { version: req.version_info, at: Date.now() };
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

  /** The node, once the first request named it. */
  get nodeInfo(): NodeInfo | undefined {
    return this.node;
  }

  onClose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.statusCache = undefined;
    this.unwatch?.();
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
    };
    return this.statusCache;
  }

  private acceptsType(typeUrl: string): boolean {
    const known = this.onlyType ? typeUrl === this.onlyType : (ADS_ORDER as readonly string[]).includes(typeUrl);
    if (known) return true;
    // Envoy may subscribe to types this server does not serve (SDS, VHDS, ...):
    // ignore them, so that the rest of the stream keeps working.
    if (!this.ignoredTypes.has(typeUrl)) {
      this.ignoredTypes.add(typeUrl);
      this.logger.warn("ignoring subscription to a type this server does not serve", {
        stream: this.id,
        node: this.node?.id,
        type: typeUrl || "(empty type_url)",
      });
    }
    return false;
  }

  private updateSubscription(state: TypeState, typeUrl: string, names: readonly string[], first: boolean): void {
    // Legacy wildcard: an empty first request for LDS/CDS; explicit wildcard: "*".
    const wildcard = names.includes("*") || (WILDCARD_TYPES.has(typeUrl) && names.length === 0 && (first || state.wildcard));
    const wanted = wildcard ? names.filter((n) => n !== "*") : names;
    // Most requests are ACKs repeating the subscription: keep the set and its key.
    if (!first && wildcard === state.wildcard && sameNames(state.names, wanted)) return;
    state.wildcard = wildcard;
    state.names = new Set(wanted);
    state.namesList = Object.freeze([...state.names]);
    state.namesKey = wildcard ? "*" : [...state.names].sort().join("\n");
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
    const namesKey = state.namesKey;
    const type = snapshot.type(typeUrl);
    // Unchanged type and subscription give the response already decided on:
    // a push costs nothing for the types it does not change.
    if (state.sent && state.sentTypeVersion === type.version && state.sent.namesKey === namesKey) return;
    const body: ResponseBody = type.response(state.wildcard ? "*" : state.names, namesKey);
    if (state.sent && state.sent.version === body.version && state.sent.namesKey === namesKey) {
      state.sentTypeVersion = type.version;
      return;
    }
    if (!state.sent && clientVersion && clientVersion === body.version) {
      // Reconnect: the node already holds exactly this version.
      state.sent = { version: body.version, nonce: "", namesKey, resourceNames: body.resourceNames, at: Date.now() };
      state.sentTypeVersion = type.version;
      state.acked = { version: body.version, at: Date.now() };
      return;
    }
    if (state.nack && state.nack.rejectedVersion === body.version && state.sent?.namesKey === namesKey) return;
    const shared = sharedResponse(body);
    let nonce = shared.nonce;
    let bytes = shared.bytes;
    if (shared.seq > state.lastSharedSeq) {
      state.lastSharedSeq = shared.seq;
    } else {
      nonce = (++nonceCounter).toString(36);
      bytes = withNonce(body.body, nonce);
    }
    const sent: SentRecord = { version: body.version, nonce, namesKey, resourceNames: body.resourceNames, at: Date.now() };
    state.sent = sent;
    state.sentTypeVersion = type.version;
    state.recent.set(nonce, sent);
    if (state.recent.size > 8) state.recent.delete(state.recent.keys().next().value as string);
    this.transport.send(bytes);
    if (this.node) {
      this.events.emit({ kind: "push", streamId: this.id, node: this.node, typeUrl, version: body.version, nonce, resourceNames: sent.resourceNames });
      this.logger.debug("pushed", { stream: this.id, node: this.node.id, type: SHORT_NAMES[typeUrl as TypeUrl] ?? typeUrl, version: body.version });
    }
  }

  private recordNack(state: TypeState, typeUrl: string, req: DiscoveryRequest__Output, sent: SentRecord): void {
    if (!this.node) return;
    const nack: NackRecord = Object.freeze({
      nodeId: this.node.id,
      streamId: this.id,
      typeUrl,
      rejectedVersion: sent.version,
      keptVersion: req.version_info,
      nonce: sent.nonce,
      message: req.error_detail?.message ?? "",
      code: req.error_detail?.code ?? 0,
      resourceNames: sent.resourceNames,
      at: Date.now(),
    });
    state.nack = nack;
    this.events.emit({ kind: "nack", node: this.node, nack });
    this.logger.warn("NACK", { stream: this.id, node: this.node.id, type: typeUrl, version: sent.version, error: nack.message });
  }

  private fail(code: number, details: string): void {
    this.logger.warn("closing stream on bad request", { stream: this.id, node: this.node?.id, code, details });
    this.transport.fail(code, details);
    this.onClose(details);
  }
}

/** Whether a request's names are exactly the set held (the usual ACK), without sorting. */
function sameNames(held: ReadonlySet<string>, names: readonly string[]): boolean {
  if (held.size !== names.length) return false;
  for (const n of names) if (!held.has(n)) return false;
  return true;
}
