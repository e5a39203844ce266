/**
 * An independent, minimal ADS server written directly on @grpc/grpc-js (no
 * code from src/xds or src/cache), so the simulator is also tested against
 * something other than the server it is meant to test. It records every
 * DiscoveryRequest, and answers by hand (respond) or automatically from a
 * table of resources per type (set): a request is answered when it is a
 * type's first on the stream or its resource names changed, and set() pushes
 * to a subscribed stream.
 */
import * as grpc from "@grpc/grpc-js";
import type { DiscoveryRequest__Output } from "../../src/generated/envoy/service/discovery/v3/DiscoveryRequest";
import { decodeMessage, encodeMessage } from "../../src/proto/registry";

export interface AnyMessage {
  type_url: string;
  value: Buffer;
}

export interface Recorded {
  readonly stream: number;
  readonly req: DiscoveryRequest__Output;
}

interface Table {
  version: string;
  resources: AnyMessage[];
  /** Restrict by name (non-wildcard types): resource name of each entry. */
  names: string[];
}

export class RawAdsServer {
  readonly requests: Recorded[] = [];
  private streams: { call: grpc.ServerDuplexStream<Buffer, Buffer>; lastNames: Map<string, string> }[] = [];
  private readonly table = new Map<string, Table>();
  private waiters: (() => void)[] = [];
  private nonce = 0;
  private readIndex = 0;

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
  ) {}

  /** `extra` may add more services (e.g. a MetricsService) before the server binds. */
  static async start(extra?: (server: grpc.Server) => void): Promise<RawAdsServer> {
    const server = new grpc.Server();
    extra?.(server);
    let self: RawAdsServer | undefined;
    server.addService(
      {
        StreamAggregatedResources: {
          path: "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources",
          requestStream: true,
          responseStream: true,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      { StreamAggregatedResources: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => self?.onStream(call) },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    self = new RawAdsServer(server, port);
    return self;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Current stream count (1 after the first connect, 2 after a reconnect, ...). */
  get streamCount(): number {
    return this.streams.length;
  }

  /** Serves `resources` for a type from now on (auto mode); pushes if a stream subscribed. */
  set(typeUrl: string, version: string, resources: { name: string; any: AnyMessage }[]): void {
    this.table.set(typeUrl, { version, resources: resources.map((r) => r.any), names: resources.map((r) => r.name) });
    for (const s of this.streams) {
      const names = s.lastNames.get(typeUrl);
      if (names !== undefined) this.push(s.call, typeUrl, names);
    }
  }

  /** Sends a response by hand on the newest stream; returns its nonce. */
  respond(typeUrl: string, version: string, resources: AnyMessage[]): string {
    const call = this.streams.at(-1)?.call;
    if (!call) throw new Error("no stream");
    const nonce = `n${++this.nonce}`;
    call.write(encodeMessage("envoy.service.discovery.v3.DiscoveryResponse", { version_info: version, resources, type_url: typeUrl, nonce }));
    return nonce;
  }

  /** The next recorded request (in arrival order) matching `pred`; earlier non-matching ones are skipped. */
  async next(pred: (r: Recorded) => boolean = () => true, timeoutMs = 5000): Promise<Recorded> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.readIndex < this.requests.length) {
        const r = this.requests[this.readIndex++] as Recorded;
        if (pred(r)) return r;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching DiscoveryRequest within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Ends every stream with UNAVAILABLE (the client should reconnect). */
  dropStreams(): void {
    for (const s of this.streams) s.call.emit("error", { code: grpc.status.UNAVAILABLE, details: "dropped by test" });
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.call.end();
    this.server.forceShutdown();
  }

  private onStream(call: grpc.ServerDuplexStream<Buffer, Buffer>): void {
    const lastNames = new Map<string, string>();
    this.streams.push({ call, lastNames });
    const stream = this.streams.length;
    call.on("data", (bytes: Buffer) => {
      const req = decodeMessage<DiscoveryRequest__Output>("envoy.service.discovery.v3.DiscoveryRequest", bytes);
      this.requests.push({ stream, req });
      for (const w of this.waiters.splice(0)) w();
      const key = req.resource_names.join(",");
      const first = !lastNames.has(req.type_url);
      if (this.table.has(req.type_url) && (first || lastNames.get(req.type_url) !== key) && !req.error_detail) {
        lastNames.set(req.type_url, key);
        this.push(call, req.type_url, key);
      } else if (first) {
        lastNames.set(req.type_url, key);
      }
    });
    call.on("error", () => {});
    call.on("end", () => call.end());
  }

  private push(call: grpc.ServerDuplexStream<Buffer, Buffer>, typeUrl: string, namesKey: string): void {
    const t = this.table.get(typeUrl);
    if (!t) return;
    const wanted = namesKey === "" ? undefined : new Set(namesKey.split(","));
    const resources = t.resources.filter((_, i) => !wanted || wanted.has(t.names[i] ?? ""));
    const nonce = `n${++this.nonce}`;
    call.write(encodeMessage("envoy.service.discovery.v3.DiscoveryResponse", { version_info: t.version, resources, type_url: typeUrl, nonce }));
  }
}
