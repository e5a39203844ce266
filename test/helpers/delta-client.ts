/**
 * A raw incremental ADS client (DeltaAggregatedResources) on @grpc/grpc-js
 * and the Envoy protos, for protocol tests: it sends exactly the
 * DeltaDiscoveryRequests a test writes (node on the first one unless told
 * otherwise) and queues the decoded responses.
 */
import type { DeltaDiscoveryResponse__Output } from "../../src/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse";
import { encodeMessage, unpackAny } from "../../src/proto/registry";
import { type ClientNode, nodeMessage } from "./ads-client";
import { ResponseStream } from "./response-stream";

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

export class DeltaClient extends ResponseStream<DeltaDiscoveryResponse__Output> {
  private sentNode = false;

  constructor(
    port: number,
    readonly node: ClientNode,
  ) {
    super(port, DELTA_ADS_PATH, "envoy.service.discovery.v3.DeltaDiscoveryResponse");
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
      msg.node = nodeMessage(node, "test-delta-client");
      this.sentNode = true;
    }
    if (args.error) msg.error_detail = args.error;
    this.write(encodeMessage("envoy.service.discovery.v3.DeltaDiscoveryRequest", msg));
  }

  ack(resp: DeltaDiscoveryResponse__Output, change: { subscribe?: string[]; unsubscribe?: string[] } = {}): void {
    this.request({ typeUrl: resp.type_url, responseNonce: resp.nonce, ...change });
  }

  nack(resp: DeltaDiscoveryResponse__Output, message: string): void {
    this.request({ typeUrl: resp.type_url, responseNonce: resp.nonce, error: { code: 13, message } });
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
