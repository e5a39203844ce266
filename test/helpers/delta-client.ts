/**
 * A raw incremental ADS client (DeltaAggregatedResources) on @grpc/grpc-js
 * and the Envoy protos, for protocol tests: it sends exactly the
 * DeltaDiscoveryRequests a test writes (node on the first one unless told
 * otherwise) and queues the decoded responses.
 */
import * as grpc from "@grpc/grpc-js";
import type { DeltaDiscoveryResponse__Output } from "../../src/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse";
import { decodeMessage, encodeMessage, unpackAny } from "../../src/proto/registry";
import type { ClientNode } from "./ads-client";

export const DELTA_ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

export interface DeltaRequestArgs {
  typeUrl: string;
  subscribe?: string[];
  unsubscribe?: string[];
  initialVersions?: Record<string, string>;
  responseNonce?: string;
  error?: { code: number; message: string };
  /** Override the node (null: omit it on the first request). */
  node?: ClientNode | null;
}

export class DeltaClient {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly queue: DeltaDiscoveryResponse__Output[] = [];
  private waiters: Array<() => void> = [];
  private sentNode = false;
  readonly ended: Promise<grpc.StatusObject>;

  constructor(
    readonly port: number,
    readonly node: ClientNode,
  ) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    this.call = this.client.makeBidiStreamRequest(
      DELTA_ADS_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    this.call.on("data", (bytes: Buffer) => {
      this.queue.push(decodeMessage<DeltaDiscoveryResponse__Output>("envoy.service.discovery.v3.DeltaDiscoveryResponse", bytes));
      for (const w of this.waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => {
      this.call.on("status", (s: grpc.StatusObject) => {
        resolve(s);
        for (const w of this.waiters.splice(0)) w();
      });
    });
    this.call.on("error", () => {});
  }

  request(args: DeltaRequestArgs): void {
    const includeNode = args.node !== undefined ? args.node !== null : !this.sentNode;
    const node = args.node ?? this.node;
    const msg: Record<string, unknown> = {
      type_url: args.typeUrl,
      resource_names_subscribe: args.subscribe ?? [],
      resource_names_unsubscribe: args.unsubscribe ?? [],
      initial_resource_versions: args.initialVersions ?? {},
      response_nonce: args.responseNonce ?? "",
    };
    if (includeNode && node) {
      msg.node = { id: node.id, cluster: node.cluster ?? "", user_agent_name: "test-delta-client" };
      this.sentNode = true;
    }
    if (args.error) msg.error_detail = args.error;
    this.call.write(encodeMessage("envoy.service.discovery.v3.DeltaDiscoveryRequest", msg));
  }

  ack(resp: DeltaDiscoveryResponse__Output, change: { subscribe?: string[]; unsubscribe?: string[] } = {}): void {
    this.request({ typeUrl: resp.type_url, responseNonce: resp.nonce, ...change });
  }

  nack(resp: DeltaDiscoveryResponse__Output, message: string): void {
    this.request({ typeUrl: resp.type_url, responseNonce: resp.nonce, error: { code: 13, message } });
  }

  async next(typeUrl?: string, timeoutMs = 3000): Promise<DeltaDiscoveryResponse__Output> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((r) => !typeUrl || r.type_url === typeUrl);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${typeUrl ?? "any"} delta response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Every response that arrives within `ms` (a test that expects none). */
  async drain(ms = 200): Promise<DeltaDiscoveryResponse__Output[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.queue.splice(0);
  }

  cancel(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** name -> version of a delta response's resources. */
export function versionsOf(resp: DeltaDiscoveryResponse__Output): Record<string, string> {
  return Object.fromEntries(resp.resources.map((r) => [r.name, r.version]));
}

/** Names and decoded messages of a delta response's resources. */
export function deltaResourcesOf<T = Record<string, unknown>>(resp: DeltaDiscoveryResponse__Output): Array<{ name: string; version: string; message: T }> {
  return resp.resources.map((r) => ({ name: r.name, version: r.version, message: unpackAny<T>({ type_url: r.resource?.type_url ?? "", value: r.resource?.value ?? Buffer.alloc(0) }) }));
}
