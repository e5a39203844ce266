/**
 * envoy/bootstrap-delta.yaml (issue 16): parses strictly as a Bootstrap with
 * the vendored protos, its ADS speaks DELTA_GRPC to xds_cluster (HTTP/2, the
 * control plane's port), and it differs from envoy/bootstrap.yaml in
 * api_type only, so the two cannot drift apart.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fromProtoJson } from "../../src/proto/json";
import { decodeMessage, encodeMessage, unpackAny } from "../../src/proto/registry";

const BOOTSTRAP = "envoy.config.bootstrap.v3.Bootstrap";

type B = {
  node: { id: string; cluster: string };
  dynamic_resources: {
    ads_config: { api_type: string; transport_api_version: string; set_node_on_first_message_only: boolean; grpc_services: Array<{ envoy_grpc: { cluster_name: string } }> };
    lds_config: { ads: object | null; resource_api_version: string };
    cds_config: { ads: object | null; resource_api_version: string };
  };
  static_resources: {
    clusters: Array<{
      name: string;
      load_assignment: { endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: { socket_address: { port_value: number } } } }> }> };
      typed_extension_protocol_options: Record<string, { type_url: string; value: Buffer }>;
    }>;
  };
};

function decoded(file: string): B {
  const doc = parse(readFileSync(join(import.meta.dirname, "../../envoy", file), "utf8"));
  return decodeMessage<B>(BOOTSTRAP, encodeMessage(BOOTSTRAP, fromProtoJson(BOOTSTRAP, doc)));
}

describe("envoy/bootstrap-delta.yaml", () => {
  it("parses as a Bootstrap whose ADS speaks DELTA_GRPC to xds_cluster over HTTP/2", () => {
    const b = decoded("bootstrap-delta.yaml");
    expect(b.dynamic_resources.ads_config).toMatchObject({ api_type: "DELTA_GRPC", transport_api_version: "V3", set_node_on_first_message_only: true });
    expect(b.dynamic_resources.ads_config.grpc_services[0]!.envoy_grpc.cluster_name).toBe("xds_cluster");
    expect(b.dynamic_resources.cds_config).toMatchObject({ resource_api_version: "V3" });
    expect(b.dynamic_resources.lds_config.ads).not.toBeNull();
    expect(b.dynamic_resources.cds_config.ads).not.toBeNull();
    const xds = b.static_resources.clusters.find((c) => c.name === "xds_cluster")!;
    expect(xds.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.port_value).toBe(18000);
    const http = unpackAny<{ explicit_http_config: { http2_protocol_options: object | null } }>(
      xds.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]!,
    );
    expect(http.explicit_http_config.http2_protocol_options).not.toBeNull();
  });

  it("differs from envoy/bootstrap.yaml in api_type only", () => {
    const delta = decoded("bootstrap-delta.yaml");
    const sotw = decoded("bootstrap.yaml");
    expect(sotw.dynamic_resources.ads_config.api_type).toBe("GRPC");
    delta.dynamic_resources.ads_config.api_type = "GRPC";
    expect(delta).toEqual(sotw);
  });
});
