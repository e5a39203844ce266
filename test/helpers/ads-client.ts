/**
 * A raw ADS client on @grpc/grpc-js that behaves as Envoy does: node on the
 * first request only, ACK with the accepted version and nonce, NACK with the
 * previous version, the nonce and error_detail.
 */
import * as grpc from "@grpc/grpc-js";
import type { DiscoveryResponse__Output } from "../../src/generated/envoy/service/discovery/v3/DiscoveryResponse";
import { decodeMessage, encodeMessage, unpackAny } from "../../src/proto/registry";

const ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";

export interface ClientNode {
  id: string;
  cluster?: string;
  metadata?: Record<string, unknown>;
  locality?: { region?: string; zone?: string; sub_zone?: string };
}

export interface RequestArgs {
  typeUrl: string;
  names?: string[];
  versionInfo?: string;
  responseNonce?: string;
  error?: { code: number; message: string };
  /** Send node even if not the first request. */
  withNode?: boolean;
  /** Override the node (e.g. null to omit it on the first request). */
  node?: ClientNode | null;
}

export class AdsClient {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly queue: DiscoveryResponse__Output[] = [];
  private waiters: Array<() => void> = [];
  private sentNode = false;
  /** Final status of the stream, once it ends. */
  readonly ended: Promise<grpc.StatusObject>;

  /** `credentials`: TLS (test/helpers/certificates.ts clientCredentials) instead of plaintext. */
  constructor(
    readonly port: number,
    readonly node: ClientNode,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, credentials);
    this.call = this.client.makeBidiStreamRequest(
      ADS_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    this.call.on("data", (bytes: Buffer) => {
      this.queue.push(decodeMessage<DiscoveryResponse__Output>("envoy.service.discovery.v3.DiscoveryResponse", bytes));
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

  request(args: RequestArgs): void {
    const includeNode = args.node !== undefined ? args.node !== null : !this.sentNode || args.withNode;
    const node = args.node ?? this.node;
    const msg: Record<string, unknown> = {
      type_url: args.typeUrl,
      resource_names: args.names ?? [],
      version_info: args.versionInfo ?? "",
      response_nonce: args.responseNonce ?? "",
    };
    if (includeNode && node) {
      msg.node = {
        id: node.id,
        cluster: node.cluster ?? "",
        locality: node.locality,
        metadata: node.metadata ? toStruct(node.metadata) : undefined,
        user_agent_name: "test-ads-client",
      };
      this.sentNode = true;
    }
    if (args.error) msg.error_detail = { code: args.error.code, message: args.error.message };
    this.call.write(encodeMessage("envoy.service.discovery.v3.DiscoveryRequest", msg));
  }

  ack(resp: DiscoveryResponse__Output, names?: string[]): void {
    this.request({ typeUrl: resp.type_url, names, versionInfo: resp.version_info, responseNonce: resp.nonce });
  }

  nack(resp: DiscoveryResponse__Output, keptVersion: string, message: string, names?: string[]): void {
    this.request({
      typeUrl: resp.type_url,
      names,
      versionInfo: keptVersion,
      responseNonce: resp.nonce,
      error: { code: 13, message },
    });
  }

  /** The next response (optionally of a type), or throws after `timeoutMs`. */
  async next(typeUrl?: string, timeoutMs = 3000): Promise<DiscoveryResponse__Output> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((r) => !typeUrl || r.type_url === typeUrl);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${typeUrl ?? "any"} response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves with all responses that arrive within `ms` (none expected usually). */
  async drain(ms = 200): Promise<DiscoveryResponse__Output[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.queue.splice(0);
  }

  close(): void {
    this.call.end();
    this.client.close();
  }

  cancel(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** Names and decoded messages of a response's resources. */
export function resourcesOf<T = Record<string, unknown>>(resp: DiscoveryResponse__Output): Array<{ name: string; message: T }> {
  return resp.resources.map((any) => {
    const message = unpackAny<T>({ type_url: any.type_url, value: any.value });
    const named = message as { name?: string; cluster_name?: string };
    // ClusterLoadAssignment is named by cluster_name; everything else by name.
    return { name: named.cluster_name || named.name || "", message };
  });
}

function toStruct(obj: Record<string, unknown>): unknown {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    fields[k] =
      typeof v === "string"
        ? { stringValue: v }
        : typeof v === "number"
          ? { numberValue: v }
          : typeof v === "boolean"
            ? { boolValue: v }
            : { stringValue: JSON.stringify(v) };
  }
  return { fields };
}
