/**
 * gRPC service definitions for the discovery services, written by hand so
 * that responses are written as pre-encoded bytes (the snapshot encodes once;
 * every stream only appends its nonce) while requests are decoded with the
 * vendored protos.
 */
import type * as grpc from "@grpc/grpc-js";
import type { DiscoveryRequest__Output } from "../generated/envoy/service/discovery/v3/DiscoveryRequest";
import { decodeMessage, encodeMessage } from "../proto/registry";
import { TYPE_URLS } from "../resources/type-urls";

const REQUEST = "envoy.service.discovery.v3.DiscoveryRequest";

function bidi(path: string): grpc.MethodDefinition<DiscoveryRequest__Output, Buffer> {
  return {
    path,
    requestStream: true,
    responseStream: true,
    requestSerialize: (req: DiscoveryRequest__Output) => encodeMessage(REQUEST, req),
    requestDeserialize: (bytes: Buffer) => decodeMessage<DiscoveryRequest__Output>(REQUEST, bytes),
    responseSerialize: (bytes: Buffer) => bytes,
    responseDeserialize: (bytes: Buffer) => bytes,
  };
}

export const ADS_SERVICE = {
  StreamAggregatedResources: bidi("/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"),
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
