/**
 * envoy/bootstrap-mtls.yaml (issue 15): the secured bootstrap parses
 * strictly as a Bootstrap with the vendored protos, its xds_cluster speaks
 * HTTP/2 over an UpstreamTlsContext presenting a client certificate and
 * checking the control plane's against a CA, and the metrics sink uses the
 * same cluster (so stats travel over the same mTLS connection).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fromProtoJson } from "../../src/proto/json";
import { decodeMessage, encodeMessage, unpackAny } from "../../src/proto/registry";

const BOOTSTRAP = "envoy.config.bootstrap.v3.Bootstrap";
const TLS_CONTEXT = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

function loadBootstrap(): unknown {
  return parse(readFileSync(join(import.meta.dirname, "../../envoy/bootstrap-mtls.yaml"), "utf8"));
}

type DataSource = { filename: string };
type TlsContext = {
  sni: string;
  common_tls_context: {
    alpn_protocols: string[];
    tls_certificates: Array<{ certificate_chain: DataSource; private_key: DataSource }>;
    validation_context: { trusted_ca: DataSource; match_typed_subject_alt_names: Array<{ san_type: string; matcher: { exact: string } }> };
  };
};
type B = {
  node: { id: string; cluster: string };
  dynamic_resources: { ads_config: { api_type: string; grpc_services: Array<{ envoy_grpc: { cluster_name: string } }> } };
  static_resources: {
    clusters: Array<{
      name: string;
      transport_socket: { name: string; typed_config: { type_url: string; value: Buffer } };
      typed_extension_protocol_options: Record<string, { type_url: string; value: Buffer }>;
    }>;
  };
  stats_sinks: Array<{ name: string; typed_config: { type_url: string; value: Buffer } }>;
};

describe("envoy/bootstrap-mtls.yaml", () => {
  it("parses as a Bootstrap whose xds_cluster speaks HTTP/2 over mTLS, with the metrics sink on the same cluster", () => {
    const b = decodeMessage<B>(BOOTSTRAP, encodeMessage(BOOTSTRAP, fromProtoJson(BOOTSTRAP, loadBootstrap())));
    expect(b.node).toMatchObject({ id: "envoy-1", cluster: "edge" });
    expect(b.dynamic_resources.ads_config.api_type).toBe("GRPC");
    expect(b.dynamic_resources.ads_config.grpc_services[0]!.envoy_grpc.cluster_name).toBe("xds_cluster");
    const xds = b.static_resources.clusters.find((c) => c.name === "xds_cluster")!;
    const http2 = unpackAny<{ explicit_http_config: { http2_protocol_options: object | null } }>(
      xds.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]!,
    );
    expect(http2.explicit_http_config.http2_protocol_options).not.toBeNull();
    expect(xds.transport_socket.name).toBe("envoy.transport_sockets.tls");
    expect(xds.transport_socket.typed_config.type_url).toBe(TLS_CONTEXT);
    const tls = unpackAny<TlsContext>(xds.transport_socket.typed_config);
    const common = tls.common_tls_context;
    expect(common.alpn_protocols).toEqual(["h2"]);
    expect(common.tls_certificates).toHaveLength(1);
    expect(common.tls_certificates[0]!.certificate_chain.filename).toMatch(/^\/etc\/wasmxds\/.+\.pem$/);
    expect(common.tls_certificates[0]!.private_key.filename).toMatch(/^\/etc\/wasmxds\/.+\.pem$/);
    expect(common.validation_context.trusted_ca.filename).toMatch(/^\/etc\/wasmxds\/.+\.pem$/);
    expect(common.validation_context.match_typed_subject_alt_names[0]).toMatchObject({ san_type: "DNS", matcher: { exact: tls.sni } });
    const sink = b.stats_sinks[0]!;
    expect(sink.name).toBe("envoy.stat_sinks.metrics_service");
    const cfg = unpackAny<{ grpc_service: { envoy_grpc: { cluster_name: string } } }>(sink.typed_config);
    expect(cfg.grpc_service.envoy_grpc.cluster_name).toBe("xds_cluster");
  });

  it("rejects an unknown field inside the TLS context with its path", () => {
    const doc = loadBootstrap() as { static_resources: { clusters: Array<{ transport_socket: { typed_config: { common_tls_context: Record<string, unknown> } } }> } };
    doc.static_resources.clusters[0]!.transport_socket.typed_config.common_tls_context.trusted_ca = "x";
    expect(() => fromProtoJson(BOOTSTRAP, doc)).toThrowError(/static_resources\.clusters\[0\]\.transport_socket\.typed_config\.common_tls_context\.trusted_ca: unknown field/);
  });
});
