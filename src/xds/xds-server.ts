/**
 * The discovery server: attaches ADS (and the single-type services) to a
 * gRPC server, runs one SotwStream per call, and keeps the live view of
 * connected nodes and the NACK history that the rest of the product reads.
 */
import * as grpc from "@grpc/grpc-js";
import type { SnapshotCache } from "../cache/snapshot-cache";
import type { DiscoveryRequest__Output } from "../generated/envoy/service/discovery/v3/DiscoveryRequest";
import { type Logger, silentLogger } from "../logger";
import { type NackRecord, XdsEvents } from "./events";
import type { NodeInfo } from "./node";
import { ADS_SERVICE, SINGLE_TYPE_SERVICES } from "./service-definitions";
import { DEFAULT_LIMITS, SotwStream, type StreamLimits, type StreamStatus } from "./sotw-stream";

export interface XdsServerOptions {
  readonly cache: SnapshotCache;
  readonly logger?: Logger;
  readonly limits?: StreamLimits;
  /** How many NACKs to remember (oldest dropped first). */
  readonly nackHistory?: number;
}

type Call = grpc.ServerDuplexStream<DiscoveryRequest__Output, Buffer>;

export class XdsServer {
  readonly events = new XdsEvents();
  readonly cache: SnapshotCache;
  private readonly logger: Logger;
  private readonly limits: StreamLimits;
  private readonly streams = new Map<number, { stream: SotwStream; call: Call }>();
  /** Open streams by node id (ids in opening order), so lookups by node need not scan every stream. */
  private readonly byNode = new Map<string, number[]>();
  private readonly nackLog: NackRecord[] = [];
  private readonly nackHistory: number;

  constructor(options: XdsServerOptions) {
    this.cache = options.cache;
    this.logger = options.logger ?? silentLogger;
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.nackHistory = options.nackHistory ?? 1000;
    this.events.on((e) => {
      if (e.kind !== "nack") return;
      this.nackLog.push(e.nack);
      if (this.nackLog.length > this.nackHistory) this.nackLog.shift();
    });
  }

  /** Registers ADS and the single-type discovery services on a gRPC server. */
  register(server: grpc.Server): void {
    server.addService(ADS_SERVICE, { StreamAggregatedResources: (call: Call) => this.handle(call) });
    for (const s of SINGLE_TYPE_SERVICES) {
      server.addService(s.definition, { [s.method]: (call: Call) => this.handle(call, s.typeUrl) });
    }
  }

  /** Status of every open stream. */
  streamStatuses(): StreamStatus[] {
    return [...this.streams.values()].map((s) => s.stream.status());
  }

  /**
   * The node of the oldest open stream identified as `nodeId`: what
   * `streamStatuses().find((s) => s.node?.id === nodeId)?.node` gives,
   * without building every stream's status (O(1) instead of O(streams)).
   */
  nodeInfo(nodeId: string): NodeInfo | undefined {
    const id = this.byNode.get(nodeId)?.[0];
    return id === undefined ? undefined : this.streams.get(id)?.stream.nodeInfo;
  }

  /** NACKs received, oldest first (bounded history). */
  nacks(filter?: { nodeId?: string; typeUrl?: string }): NackRecord[] {
    return this.nackLog.filter(
      (n) => (!filter?.nodeId || n.nodeId === filter.nodeId) && (!filter?.typeUrl || n.typeUrl === filter.typeUrl),
    );
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

  /** Ends every stream cleanly (status OK), e.g. on shutdown. */
  closeAllStreams(): void {
    for (const { stream, call } of [...this.streams.values()]) {
      stream.onClose("server shutting down");
      call.end();
    }
    this.streams.clear();
    this.byNode.clear();
  }

  private unindex(nodeId: string, streamId: number): void {
    const ids = this.byNode.get(nodeId);
    if (!ids) return;
    const i = ids.indexOf(streamId);
    if (i >= 0) ids.splice(i, 1);
    if (ids.length === 0) this.byNode.delete(nodeId);
  }

  private handle(call: Call, onlyType?: string): void {
    let ended = false;
    const stream = new SotwStream(
      this.cache,
      {
        send: (bytes) => {
          if (!ended) call.write(bytes);
        },
        fail: (code, details) => {
          if (ended) return;
          ended = true;
          call.emit("error", { code, details });
        },
      },
      this.events,
      this.logger,
      onlyType,
      this.limits,
    );
    this.streams.set(stream.id, { stream, call });
    let indexed: string | undefined;
    const done = (reason: string) => {
      this.streams.delete(stream.id);
      if (indexed !== undefined) this.unindex(indexed, stream.id);
      stream.onClose(reason);
    };
    call.on("data", (req: DiscoveryRequest__Output) => {
      try {
        stream.onRequest(req);
        if (indexed === undefined && stream.nodeInfo && this.streams.has(stream.id)) {
          indexed = stream.nodeInfo.id;
          const ids = this.byNode.get(indexed);
          // Stream ids grow, and a node is named on a stream's first request: keep opening order.
          if (ids) {
            ids.push(stream.id);
            ids.sort((a, b) => a - b);
          } else {
            this.byNode.set(indexed, [stream.id]);
          }
        }
      } catch (err) {
        // A bug handling one request must not take down the process or other streams.
        this.logger.error("error handling DiscoveryRequest", { stream: stream.id, err: String(err) });
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
}
