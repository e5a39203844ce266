/**
 * gRPC service definitions for the discovery services, written by hand so
 * that responses are written as pre-encoded bytes (the snapshot encodes once;
 * every stream only appends its nonce) while requests are decoded with the
 * vendored protos, except for the plain ACK shape (see decodeRequest).
 */
import type * as grpc from "@grpc/grpc-js";
import type { DeltaDiscoveryRequest__Output } from "../generated/envoy/service/discovery/v3/DeltaDiscoveryRequest";
import type { DiscoveryRequest__Output } from "../generated/envoy/service/discovery/v3/DiscoveryRequest";
import { decodeMessage, encodeMessage } from "../proto/registry";
import { TYPE_URLS } from "../vocabulary/type-urls";

const REQUEST = "envoy.service.discovery.v3.DiscoveryRequest";

function bidi(path: string): grpc.MethodDefinition<DiscoveryRequest__Output, Buffer> {
  return {
    path,
    requestStream: true,
    responseStream: true,
    requestSerialize: (req: DiscoveryRequest__Output) => encodeMessage(REQUEST, req),
    requestDeserialize: decodeRequest,
    responseSerialize: (bytes: Buffer) => bytes,
    responseDeserialize: (bytes: Buffer) => bytes,
  };
}

/**
 * Decodes a DiscoveryRequest. Almost every request on a stream is an ACK
 * (or a subscription change) carrying only version_info (1),
 * resource_names (3), type_url (4) and response_nonce (5): strings, the
 * node sent on the first request only (set_node_on_first_message_only).
 * Those are read directly, into the same object the protobufjs decoder
 * gives, which costs a fraction of its decode-then-toObject. Anything else
 * (node, error_detail, resource_locators, unknown fields, a malformed
 * message) goes through protobufjs, so every other request is decoded, and
 * fails, exactly as before.
 */
export function decodeRequest(bytes: Buffer): DiscoveryRequest__Output {
  return plainRequest(bytes) ?? decodeMessage<DiscoveryRequest__Output>(REQUEST, bytes);
}

function plainRequest(buf: Buffer): DiscoveryRequest__Output | undefined {
  const out: DiscoveryRequest__Output = {
    resource_names: [],
    resource_locators: [],
    version_info: "",
    node: null,
    type_url: "",
    response_nonce: "",
    error_detail: null,
  };
  const end = buf.length;
  let pos = 0;
  while (pos < end) {
    // Tags of fields 1, 3, 4, 5 with wire type 2 (length-delimited) are single bytes.
    const tag = buf[pos++];
    let len = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end || shift > 28) return undefined;
      const b = buf[pos++] as number;
      len += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
    }
    const stop = pos + len;
    if (stop > end) return undefined;
    const value = buf.toString("utf8", pos, stop);
    pos = stop;
    // Repeated scalar fields: the last one wins, as in protobufjs.
    if (tag === 0x0a) out.version_info = value;
    else if (tag === 0x1a) out.resource_names.push(value);
    else if (tag === 0x22) out.type_url = value;
    else if (tag === 0x2a) out.response_nonce = value;
    else return undefined;
  }
  return out;
}

const DELTA_REQUEST = "envoy.service.discovery.v3.DeltaDiscoveryRequest";

/** Incremental ADS: requests decoded by protobufjs (delta ACKs carry no subscription to re-read), responses pre-encoded. */
const deltaBidi: grpc.MethodDefinition<DeltaDiscoveryRequest__Output, Buffer> = {
  path: "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources",
  requestStream: true,
  responseStream: true,
  requestSerialize: (req: DeltaDiscoveryRequest__Output) => encodeMessage(DELTA_REQUEST, req),
  requestDeserialize: (bytes: Buffer) => decodeMessage<DeltaDiscoveryRequest__Output>(DELTA_REQUEST, bytes),
  responseSerialize: (bytes: Buffer) => bytes,
  responseDeserialize: (bytes: Buffer) => bytes,
};

export const ADS_SERVICE = {
  StreamAggregatedResources: bidi("/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"),
  DeltaAggregatedResources: deltaBidi,
} satisfies grpc.ServiceDefinition;

/** Single-type services (non-ADS bootstraps), with the one type each serves. */
export const SINGLE_TYPE_SERVICES = [
  { typeUrl: TYPE_URLS.cluster, method: "StreamClusters", path: "/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters" },
  { typeUrl: TYPE_URLS.endpoint, method: "StreamEndpoints", path: "/envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints" },
  { typeUrl: TYPE_URLS.listener, method: "StreamListeners", path: "/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners" },
  { typeUrl: TYPE_URLS.route, method: "StreamRoutes", path: "/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes" },
  {
    typeUrl: TYPE_URLS.extensionConfig,
    method: "StreamExtensionConfigs",
    path: "/envoy.service.extension.v3.ExtensionConfigDiscoveryService/StreamExtensionConfigs",
  },
].map((s) => ({ ...s, definition: { [s.method]: bidi(s.path) } as grpc.ServiceDefinition }));
