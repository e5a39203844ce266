/**
 * Clusters for the configured upstreams. Endpoints given as IP addresses make
 * an EDS cluster fed over ADS, with its ClusterLoadAssignment sent as its own
 * resource (endpoints.ts), so changing an endpoint does not rebuild the
 * cluster. EDS cannot carry names (Envoy does not resolve hostnames in EDS
 * endpoints), so a cluster with any hostname endpoint is STRICT_DNS with its
 * endpoints inline instead.
 */
import { isIP } from "node:net";
import type { ClusterConfig } from "../config/model";
import type { Cluster } from "../generated/envoy/config/cluster/v3/Cluster";
import { anyOf } from "./any";
import { adsConfigSource } from "./config-source";
import { protoTimeFromMs as durationFromMs } from "../proto/time";
import { loadAssignment } from "./endpoints";
import { EXTENSION_TYPE_URLS } from "../vocabulary/type-urls";

/** Key of typed_extension_protocol_options: the extension's message name. */
const HTTP_PROTOCOL_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/** Whether the cluster is served over EDS (and so needs a ClusterLoadAssignment). */
export function usesEds(cluster: ClusterConfig): boolean {
  return cluster.endpoints.every((e) => isIP(e.host) !== 0);
}

export function buildCluster(cluster: ClusterConfig): Cluster {
  const base: Cluster = {
    name: cluster.name,
    connect_timeout: durationFromMs(cluster.connectTimeoutMs),
    // HTTP/2 upstreams must be declared: Envoy speaks HTTP/1.1 to a cluster
    // unless its HttpProtocolOptions say otherwise.
    ...(cluster.http2 && {
      typed_extension_protocol_options: {
        [HTTP_PROTOCOL_OPTIONS_KEY]: anyOf(EXTENSION_TYPE_URLS.httpProtocolOptions, {
          explicit_http_config: { http2_protocol_options: {} },
        }),
      },
    }),
  };
  if (usesEds(cluster)) {
    // service_name left empty: Envoy then asks EDS for the cluster's own name.
    return { ...base, type: "EDS", eds_cluster_config: { eds_config: adsConfigSource() } };
  }
  return {
    ...base,
    type: "STRICT_DNS",
    // V4_PREFERRED: `localhost` and dual-stack names reach IPv4-only upstreams.
    dns_lookup_family: "V4_PREFERRED",
    load_assignment: loadAssignment(cluster.name, cluster.endpoints),
  };
}
