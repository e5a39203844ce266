/**
 * Generates protobufjs's encoders and decoders for the messages a simulated
 * Envoy of the fan-out benchmark reads and writes, before the connect storm.
 * protobufjs builds each message type's code on its first use; in a storm
 * that first use fell inside the measured window (about 150 ms of each
 * client process's CPU in a profiled N=1,000 storm, 7% of it), a cost a
 * running Envoy, with its config types compiled in, does not have.
 */
import type protobuf from "protobufjs";
import { messageType } from "../../src/proto/registry";

/** What the nodes decode (responses, the resources in them, the filters in listeners) and encode (requests). */
const ROOTS = [
  "envoy.service.discovery.v3.DiscoveryRequest",
  "envoy.service.discovery.v3.DiscoveryResponse",
  "envoy.service.discovery.v3.DeltaDiscoveryRequest",
  "envoy.service.discovery.v3.DeltaDiscoveryResponse",
  "envoy.config.cluster.v3.Cluster",
  "envoy.config.endpoint.v3.ClusterLoadAssignment",
  "envoy.config.listener.v3.Listener",
  "envoy.config.route.v3.RouteConfiguration",
  "envoy.config.core.v3.TypedExtensionConfig",
  "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  "envoy.extensions.filters.http.wasm.v3.Wasm",
  "envoy.extensions.filters.http.router.v3.Router",
  "google.protobuf.StringValue",
];

/** Sets up every message type reachable from ROOTS through its fields; returns how many. */
export function warmCodecs(): number {
  const seen = new Set<protobuf.Type>();
  const visit = (t: protobuf.Type) => {
    if (seen.has(t)) return;
    seen.add(t);
    t.setup();
    for (const f of t.fieldsArray) {
      const r = f.resolve().resolvedType;
      // An enum has no code; a message type has fields.
      if (r && "fieldsArray" in r) visit(r);
    }
  };
  for (const name of ROOTS) visit(messageType(name));
  return seen.size;
}
