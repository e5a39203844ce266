/**
 * What a @grpc/grpc-js-xds client needs from a test: echo servers that answer
 * with their name, the four resources that route `xds:///echo` to one of
 * them (Listener with api_listener, RouteConfiguration, Cluster,
 * ClusterLoadAssignment), and a call through the client.
 */
import * as grpc from "@grpc/grpc-js";
import { packAny } from "../../src/proto/registry";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";

export const ECHO_PATH = "/wasmxds.test.Echo/Who";
const ADS = { ads: {}, resource_api_version: "V3" };

export async function startEcho(name: string): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(
    {
      Who: {
        path: ECHO_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    { Who: (_call: unknown, cb: (err: null, res: Buffer) => void) => cb(null, Buffer.from(name)) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { port, server };
}

export function echoResources(opts: { echoPort: number; brokenListener?: boolean }) {
  const hcm = opts.brokenListener
    ? // Neither rds nor route_config: grpc-js-xds rejects this listener.
      { http_filters: [{ name: "router", typed_config: packAny("envoy.extensions.filters.http.router.v3.Router", {}) }] }
    : {
        rds: { route_config_name: "echo-route", config_source: ADS },
        http_filters: [{ name: "router", typed_config: packAny("envoy.extensions.filters.http.router.v3.Router", {}) }],
      };
  return {
    [TYPE_URLS.listener]: [
      {
        name: "echo",
        message: {
          name: "echo",
          api_listener: {
            api_listener: packAny("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", hcm),
          },
        },
      },
    ],
    [TYPE_URLS.route]: [
      {
        name: "echo-route",
        message: {
          name: "echo-route",
          virtual_hosts: [{ name: "echo", domains: ["*"], routes: [{ match: { prefix: "" }, route: { cluster: "echo-cluster" } }] }],
        },
      },
    ],
    [TYPE_URLS.cluster]: [
      {
        name: "echo-cluster",
        message: { name: "echo-cluster", type: "EDS", eds_cluster_config: { eds_config: ADS }, lb_policy: "ROUND_ROBIN" },
      },
    ],
    [TYPE_URLS.endpoint]: [
      {
        name: "echo-cluster",
        message: {
          cluster_name: "echo-cluster",
          endpoints: [
            {
              locality: { region: "local" },
              load_balancing_weight: { value: 1 },
              lb_endpoints: [
                { endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: opts.echoPort } } } },
              ],
            },
          ],
        },
      },
    ],
  };
}

/** One call through `client` to whichever echo server it routes to: the server's name. */
export function who(client: grpc.Client): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      ECHO_PATH,
      (x: Buffer) => x,
      (x: Buffer) => x,
      Buffer.from("?"),
      { deadline: Date.now() + 5000 },
      (err, res) => (err ? reject(err) : resolve(res?.toString() ?? "")),
    );
  });
}
