/**
 * The discovery server: attaches ADS (and the single-type services) to a
 * gRPC server, runs one SotwStream per state-of-the-world call and one
 * DeltaStream per DeltaAggregatedResources call (both over the same cache,
 * events and limits), and keeps the live view of connected nodes and the
 * NACK history that the rest of the product reads.
 *
 * The transport it gives each stream counts the bytes written and not yet
 * taken by the connection (grpc-js calls a write's callback when HTTP/2 has
 * taken the message: measured, a client that does not read stops the
 * callbacks after a few MiB sit in socket and client buffers, while
 * writableLength counts messages, not bytes), so a stream can stop writing
 * to a client that does not read (backpressure, sotw-stream.ts).
 */
import * as grpc from "@grpc/grpc-js";
import type { SnapshotCache } from "../cache/snapshot-cache";
import type { Node__Output } from "../generated/envoy/config/core/v3/Node";
import type { DeltaDiscoveryRequest__Output } from "../generated/envoy/service/discovery/v3/DeltaDiscoveryRequest";
import type { DiscoveryRequest__Output } from "../generated/envoy/service/discovery/v3/DiscoveryRequest";
import { LogLimiter } from "../log-limiter";
import { type Logger, silentLogger } from "../logger";
import { resetCall } from "../net/grpc-call-reset";
import { type Framed, framedOf, framedWrites } from "../net/grpc-frames";
import { type NodeIdentityMode, nodeIdentityProblem } from "../net/node-identity";
import { type Clock, type TimerHandle, realClock } from "../time/clock";
import { type NackRecord, XdsEvents } from "./events";
import { DEFAULT_LIMITS, type StreamLimits } from "./limits";
import type { NodeInfo } from "../vocabulary/node-info";
import { ADS_SERVICE, SINGLE_TYPE_SERVICES } from "./service-definitions";
import { DeltaStream } from "./delta-stream";
import { SotwStream, type StreamStatus, type StreamTransport } from "./sotw-stream";
import type { StreamContext, StreamObserver, XdsStream } from "./stream-base";
import { NackLog } from "./nack-log";
import { StreamsByNode } from "./streams-by-node";
import type { XdsStreams } from "./xds-streams";

export interface XdsServerOptions {
  readonly cache: SnapshotCache;
  readonly logger?: Logger;
  readonly limits?: Partial<StreamLimits>;
  /** How many NACKs to remember (oldest dropped first; default 1000). */
  readonly nackHistory?: number;
  /** Open xDS streams at most; more are refused with RESOURCE_EXHAUSTED (default 100,000). */
  readonly maxStreams?: number;
  readonly clock?: Clock;
  /** The client certificate field a node id must equal (`--node-identity`; default off): else PERMISSION_DENIED. */
  readonly nodeIdentity?: NodeIdentityMode;
  /** Told of status changes no event carries (a worker process reports them: workers/worker-main.ts). */
  readonly observer?: StreamObserver;
}

type Call<R = DiscoveryRequest__Output> = grpc.ServerDuplexStream<R, Buffer>;
/** A stream of either protocol, with its request handler. */
type Served<R> = XdsStream & { onRequest(req: R): void };

/** After a stream that does not read is failed, how long its status may wait behind its buffered data before the stream is reset. */
export const RESET_AFTER_FAIL_MS = 5000;

export class XdsServer implements XdsStreams {
  readonly events = new XdsEvents();
  readonly cache: SnapshotCache;
  private readonly logger: Logger;
  private readonly limits: StreamLimits;
  private readonly clock: Clock;
  private readonly maxStreams: number;
  /** Shared by every stream: peer-triggered warnings, rate limited per peer. */
  private readonly warnings: LogLimiter;
  private readonly streams = new Map<number, { stream: XdsStream; call: Call<unknown> }>();
  /** Open streams by node id (ids in opening order), so lookups by node need not scan every stream. */
  private readonly byNode = new StreamsByNode();
  private readonly nackLog: NackLog;
  private readonly resets = new Set<TimerHandle>();
  private readonly nodeIdentity: NodeIdentityMode;
  private readonly observer: StreamObserver | undefined;

  constructor(options: XdsServerOptions) {
    this.cache = options.cache;
    this.logger = options.logger ?? silentLogger;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clock = options.clock ?? realClock;
    this.maxStreams = options.maxStreams ?? 100_000;
    this.warnings = new LogLimiter(this.logger, this.clock);
    this.nackLog = new NackLog(options.nackHistory ?? 1000);
    this.nodeIdentity = options.nodeIdentity ?? "off";
    this.observer = options.observer;
    this.events.on((e) => {
      if (e.kind === "nack") this.nackLog.add(e.nack);
    });
  }

  /** Registers ADS and the single-type discovery services on a gRPC server. */
  register(server: grpc.Server): void {
    const sotw = (onlyType?: string) => (t: StreamTransport, c: StreamContext) => new SotwStream(this.cache, t, this.events, this.logger, onlyType, this.limits, c);
    server.addService(ADS_SERVICE, {
      StreamAggregatedResources: (call: Call) => this.handle(call, sotw()),
      DeltaAggregatedResources: (call: Call<DeltaDiscoveryRequest__Output>) =>
        this.handle(call, (t, c) => new DeltaStream(this.cache, t, this.events, this.logger, this.limits, c)),
    });
    for (const s of SINGLE_TYPE_SERVICES) {
      server.addService(s.definition, { [s.method]: (call: Call) => this.handle(call, sotw(s.typeUrl)) });
    }
  }

  /** Status of every open stream. */
  streamStatuses(): StreamStatus[] {
    return [...this.streams.values()].map((s) => s.stream.status());
  }

  /**
   * The node of every open stream that named one (a node with two streams
   * is listed twice): what `streamStatuses()` gives the node of, without
   * building (and keeping) every stream's status, for the scans done on
   * every publish and rollout tick.
   */
  nodes(): NodeInfo[] {
    const out: NodeInfo[] = [];
    for (const { stream } of this.streams.values()) if (stream.nodeInfo) out.push(stream.nodeInfo);
    return out;
  }

  /** Open streams (with or without a node yet). */
  get streamCount(): number {
    return this.streams.size;
  }

  /**
   * The node of the oldest open stream identified as `nodeId`: what
   * `streamStatuses().find((s) => s.node?.id === nodeId)?.node` gives,
   * without building every stream's status (O(1) instead of O(streams)).
   */
  nodeInfo(nodeId: string): NodeInfo | undefined {
    const id = this.byNode.oldest(nodeId);
    return id === undefined ? undefined : this.streams.get(id)?.stream.nodeInfo;
  }

  /** NACKs received, oldest first (bounded history). */
  nacks(filter?: { nodeId?: string; typeUrl?: string }): NackRecord[] {
    return this.nackLog.list(filter);
  }

  /**
   * Re-evaluates the group of every stream (or those whose node matches),
   * after the answer of the cache's group function changed for them.
   */
  regroup(which?: (node: NodeInfo) => boolean): void {
    for (const { stream } of this.streams.values()) {
      const node = stream.nodeInfo;
      if (node && (!which || which(node))) stream.regroup();
    }
  }

  /** Re-evaluates the group of the streams with these ids (those still open). */
  regroupStreams(ids: Iterable<number>): void {
    for (const id of ids) this.streams.get(id)?.stream.regroup();
  }

  /** The open stream with this id. */
  stream(id: number): XdsStream | undefined {
    return this.streams.get(id)?.stream;
  }

  /**
   * Ends every stream cleanly (status OK), e.g. on shutdown. A stream whose
   * client does not read keeps its status behind its buffered data; the
   * gRPC server's forced shutdown after the grace period ends it.
   */
  closeAllStreams(): void {
    for (const { stream, call } of [...this.streams.values()]) {
      stream.onClose("server shutting down");
      call.end();
    }
    this.streams.clear();
    this.byNode.clear();
    for (const t of this.resets) t.cancel();
    this.resets.clear();
    this.warnings.close();
  }

  private handle<R extends { readonly node: Node__Output | null }>(call: Call<R>, create: (t: StreamTransport, c: StreamContext) => Served<R>): void {
    if (this.streams.size >= this.maxStreams) {
      this.warnings.warn("max-streams", "refusing an xDS stream: too many open streams", { peer: call.getPeer(), limit: this.maxStreams });
      call.emit("error", { code: grpc.status.RESOURCE_EXHAUSTED, details: `the server has ${this.streams.size} open xDS streams, the limit is ${this.maxStreams}` });
      return;
    }
    let ended = false;
    let stream: Served<R> | undefined;
    const transport = this.transportFor(call, () => ended, (e) => {
      ended = e;
    }, () => stream);
    stream = create(transport, { clock: this.clock, peer: call.getPeer(), warnings: this.warnings, ...(this.observer && { observer: this.observer }) });
    const s = stream;
    this.streams.set(s.id, { stream: s, call });
    let indexed: string | undefined;
    const done = (reason: string) => {
      this.streams.delete(s.id);
      if (indexed !== undefined) this.byNode.remove(indexed, s.id);
      s.onClose(reason);
    };
    call.on("data", (req: R) => {
      if (ended) return;
      // The node a request names (the first one's, or a later one's if it sends node again) must be the certificate's.
      const claimed = req.node?.id;
      const denied = claimed ? nodeIdentityProblem(this.nodeIdentity, call.getAuthContext(), claimed) : undefined;
      if (denied !== undefined) {
        this.warnings.warn(`identity|${call.getPeer()}`, "refusing an xDS stream: node id and client certificate differ", { peer: call.getPeer(), reason: denied });
        transport.fail(grpc.status.PERMISSION_DENIED, denied);
        done("node identity refused");
        return;
      }
      try {
        s.onRequest(req);
        if (indexed === undefined && s.nodeInfo && this.streams.has(s.id)) {
          indexed = s.nodeInfo.id;
          // Stream ids grow, and a node is named on a stream's first request: keep opening order.
          this.byNode.addById(indexed, s.id);
        }
      } catch (err) {
        // A bug handling one request must not take down the process or other streams.
        this.logger.error("error handling DiscoveryRequest", { stream: s.id, err: String(err) });
        if (!ended) {
          ended = true;
          call.emit("error", { code: grpc.status.INTERNAL, details: "internal error handling the request" });
        }
        done("internal error");
      }
    });
    call.on("end", () => {
      if (!ended) {
        ended = true;
        call.end();
      }
      done("client closed the stream");
    });
    call.on("cancelled", () => {
      ended = true;
      done("stream cancelled");
    });
    call.on("error", (err: Error) => {
      ended = true;
      done(`stream error: ${err.message}`);
    });
  }

  /** The stream's side of the call: writes with byte accounting, and failing with a status. */
  private transportFor(call: Call<unknown>, isEnded: () => boolean, setEnded: (e: boolean) => void, stream: () => XdsStream | undefined): StreamTransport {
    const limit = this.limits.maxBufferedBytes;
    let buffered = 0;
    let over = false;
    // Responses built with their gRPC frame (shared-response.ts) go out as they are, not copied per stream.
    const framed = framedWrites(call);
    // grpc-js types a call's writes as the response type; a Framed is what its serializeMessage now takes too.
    const writer = call as unknown as { write(chunk: Buffer | Framed, done: () => void): boolean };
    return {
      send: (bytes) => {
        if (isEnded()) return;
        const length = bytes.length;
        buffered += length;
        if (buffered >= limit) over = true;
        writer.write((framed && framedOf(bytes)) || bytes, () => {
          buffered -= length;
          if (over && buffered < limit) {
            over = false;
            stream()?.onDrained();
          }
        });
      },
      bufferedBytes: () => buffered,
      fail: (code, details) => {
        if (isEnded()) return;
        setEnded(true);
        call.emit("error", { code, details });
        if (buffered === 0) return;
        // The status waits behind data the client is not reading: give it a while, then reset the stream.
        const timer = this.clock.setTimeout(() => {
          this.resets.delete(timer);
          if (buffered > 0) resetCall(call);
        }, RESET_AFTER_FAIL_MS);
        this.resets.add(timer);
      },
    };
  }
}
