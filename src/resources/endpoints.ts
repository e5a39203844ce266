/**
 * ClusterLoadAssignment (EDS) for a configured cluster: one locality with the
 * endpoints in the order written (order does not change load balancing, and
 * keeping it makes equal configs produce equal bytes).
 */
import type { Endpoint } from "../config/model";
import type { ClusterLoadAssignment } from "../generated/envoy/config/endpoint/v3/ClusterLoadAssignment";
import { socketAddress } from "./address";

export function loadAssignment(clusterName: string, endpoints: readonly Endpoint[]): ClusterLoadAssignment {
  return {
    cluster_name: clusterName,
    endpoints: [
      {
        lb_endpoints: endpoints.map((e) => ({ endpoint: { address: socketAddress(e.host, e.port) } })),
      },
    ],
  };
}
