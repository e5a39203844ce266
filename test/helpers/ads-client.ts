/**
 * A raw ADS client on @grpc/grpc-js that behaves as Envoy does: node on the
 * first request only, ACK with the accepted version and nonce, NACK with the
 * previous version, the nonce and error_detail.
 */
import * as grpc from "@grpc/grpc-js";
import type { DiscoveryResponse__Output } from "../../src/generated/envoy/service/discovery/v3/DiscoveryResponse";
import { encodeMessage, unpackAny } from "../../src/proto/registry";
import { ResponseStream } from "./response-stream";

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

/** Channel options for a connection of the client's own, as each Envoy has (grpc-js shares one between clients otherwise). */
export const OWN_CONNECTION = { "grpc.use_local_subchannel_pool": 1 } as const;

export class AdsClient extends ResponseStream<DiscoveryResponse__Output> {
  private sentNode = false;

  /** `credentials`: TLS (test/helpers/certificates.ts clientCredentials) instead of plaintext. */
  constructor(
    port: number,
    readonly node: ClientNode,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
    channelOptions: grpc.ChannelOptions = {},
  ) {
    super(port, ADS_PATH, "envoy.service.discovery.v3.DiscoveryResponse", credentials, channelOptions);
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
      msg.node = nodeMessage(node, "test-ads-client");
      this.sentNode = true;
    }
    if (args.error) msg.error_detail = { code: args.error.code, message: args.error.message };
    this.write(encodeMessage("envoy.service.discovery.v3.DiscoveryRequest", msg));
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

/** The Node message a test client sends (metadata as a Struct of strings, numbers and booleans). */
export function nodeMessage(node: ClientNode, userAgent: string): Record<string, unknown> {
  return {
    id: node.id,
    cluster: node.cluster ?? "",
    locality: node.locality,
    metadata: node.metadata ? toStruct(node.metadata) : undefined,
    user_agent_name: userAgent,
  };
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
