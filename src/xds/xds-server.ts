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
    const done = (reason: string) => {
      this.streams.delete(stream.id);
      stream.onClose(reason);
    };
    call.on("data", (req: DiscoveryRequest__Output) => {
      try {
        stream.onRequest(req);
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
