import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fromProtoJson } from "../../src/proto/json";
import { decodeMessage, encodeMessage, unpackAny } from "../../src/proto/registry";

const BOOTSTRAP = "envoy.config.bootstrap.v3.Bootstrap";

function loadBootstrap(): unknown {
  return parse(readFileSync(join(import.meta.dirname, "../../envoy/bootstrap.yaml"), "utf8"));
}

describe("envoy/bootstrap.yaml", () => {
  it("parses as envoy.config.bootstrap.v3.Bootstrap with the vendored protos", () => {
    const msg = fromProtoJson(BOOTSTRAP, loadBootstrap());
    type B = {
      node: { id: string; cluster: string };
      dynamic_resources: { ads_config: { api_type: string; transport_api_version: string; set_node_on_first_message_only: boolean; grpc_services: Array<{ envoy_grpc: { cluster_name: string } }> }; lds_config: { ads: object | null }; cds_config: { ads: object | null } };
      static_resources: { clusters: Array<{ name: string; load_assignment: { endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: { socket_address: { port_value: number } } } }> }> }; typed_extension_protocol_options: Record<string, { type_url: string; value: Buffer }> }> };
      stats_sinks: Array<{ name: string; typed_config: { type_url: string; value: Buffer } }>;
      stats_flush_interval: { seconds: string };
    };
    const b = decodeMessage<B>(BOOTSTRAP, encodeMessage(BOOTSTRAP, msg));
    expect(b.node).toMatchObject({ id: "envoy-1", cluster: "edge" });
    const ads = b.dynamic_resources.ads_config;
    expect(ads).toMatchObject({ api_type: "GRPC", transport_api_version: "V3", set_node_on_first_message_only: true });
    expect(ads.grpc_services[0]!.envoy_grpc.cluster_name).toBe("xds_cluster");
    expect(b.dynamic_resources.lds_config.ads).not.toBeNull();
    expect(b.dynamic_resources.cds_config.ads).not.toBeNull();
    const xds = b.static_resources.clusters.find((c) => c.name === "xds_cluster")!;
    expect(xds.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.port_value).toBe(18000);
    const http2 = unpackAny<{ explicit_http_config: { http2_protocol_options: object | null } }>(
      xds.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]!,
    );
    expect(http2.explicit_http_config.http2_protocol_options).not.toBeNull();
    const sink = b.stats_sinks[0]!;
    expect(sink.name).toBe("envoy.stat_sinks.metrics_service");
    const cfg = unpackAny<{ transport_api_version: string; grpc_service: { envoy_grpc: { cluster_name: string } } }>(sink.typed_config);
    expect(cfg.transport_api_version).toBe("V3");
    expect(cfg.grpc_service.envoy_grpc.cluster_name).toBe("xds_cluster");
    expect(b.stats_flush_interval.seconds).toBe("5");
  });

  it("rejects unknown fields with their path", () => {
    const doc = loadBootstrap() as { dynamic_resources: { ads_config: Record<string, unknown> } };
    doc.dynamic_resources.ads_config.api_typo = "GRPC";
    expect(() => fromProtoJson(BOOTSTRAP, doc)).toThrowError("dynamic_resources.ads_config.api_typo: unknown field of envoy.config.core.v3.ApiConfigSource");
  });

  it("rejects unknown fields inside an Any and bad enum names", () => {
    const doc = loadBootstrap() as { stats_sinks: Array<{ typed_config: Record<string, unknown> }>; dynamic_resources: { ads_config: Record<string, unknown> } };
    doc.stats_sinks[0]!.typed_config.flush_everything = true;
    expect(() => fromProtoJson(BOOTSTRAP, doc)).toThrowError(/stats_sinks\[0\]\.typed_config\.flush_everything: unknown field/);
    const doc2 = loadBootstrap() as { dynamic_resources: { ads_config: Record<string, unknown> } };
    doc2.dynamic_resources.ads_config.api_type = "GRCP";
    expect(() => fromProtoJson(BOOTSTRAP, doc2)).toThrowError(/dynamic_resources\.ads_config\.api_type: expected one of .*GRPC/);
  });
});
