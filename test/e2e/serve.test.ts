/**
 * `wasmxds serve` on the bundled example, as `npm start` runs it: an
 * Envoy-like ADS client receives listeners with both kinds of wasm filter
 * (through ECDS), fetches the remote module from the module server and
 * verifies its sha256 exactly as Envoy does; SIGTERM exits 0.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { unpackAny } from "../../src/proto/registry";
import { AdsClient, resourcesOf } from "../helpers/ads-client";
import { DeltaClient } from "../helpers/delta-client";
import { type CliProcess, runCli, startCli } from "../helpers/cli-process";

const CONFIG = join(import.meta.dirname, "../../config");
type Obj = Record<string, unknown>;

describe("wasmxds serve on the bundled example", () => {
  let cli: CliProcess;
  let port: number;
  let modulesPort: number;
  let adminPort: number;
  let client: AdsClient;

  beforeAll(async () => {
    cli = startCli(["serve", "--config", CONFIG, "--xds-address", "127.0.0.1:0", "--modules-address", "127.0.0.1:0", "--admin-address", "127.0.0.1:0", "--state-dir", "off"]);
    const ready = await cli.waitFor((l) => l.msg === "wasmxds ready");
    port = Number(String(ready.xds).split(":").pop());
    modulesPort = Number(String(ready.modules).split(":").pop());
    adminPort = Number(String(ready.admin).split(":").pop());
    client = new AdsClient(port, { id: "envoy-e2e", cluster: "edge" });
  });

  afterAll(async () => {
    client?.cancel();
    await cli?.stop();
  });

  it("serves listeners whose filter chains run http and network wasm filters over ECDS", async () => {
    client.request({ typeUrl: TYPE_URLS.cluster });
    client.request({ typeUrl: TYPE_URLS.listener });
    const cds = await client.next(TYPE_URLS.cluster);
    const lds = await client.next(TYPE_URLS.listener);
    client.ack(cds);
    client.ack(lds);
    expect(resourcesOf(cds).map((r) => r.name).sort()).toEqual(["backend", "wasmxds_modules"]);
    const listeners = resourcesOf<Obj>(lds);
    expect(listeners.map((l) => l.name).sort()).toEqual(["ingress", "tcp-in"]);

    const ingress = listeners.find((l) => l.name === "ingress")!.message as { filter_chains: Array<{ filters: Array<{ typed_config: { type_url: string; value: Buffer } }> }> };
    const hcm = unpackAny<{ http_filters: Array<{ name: string; config_discovery: { type_urls: string[] } | null }> }>(ingress.filter_chains[0]!.filters[0]!.typed_config);
    expect(hcm.http_filters.map((f) => f.name)).toEqual(["add-header", "envoy.filters.http.router"]);
    expect(hcm.http_filters[0]!.config_discovery!.type_urls).toEqual(["type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"]);

    const tcp = listeners.find((l) => l.name === "tcp-in")!.message as { filter_chains: Array<{ filters: Array<{ name: string; config_discovery: { type_urls: string[] } | null }> }> };
    expect(tcp.filter_chains[0]!.filters.map((f) => f.name)).toEqual(["conn-guard", "envoy.filters.network.tcp_proxy"]);
    expect(tcp.filter_chains[0]!.filters[0]!.config_discovery!.type_urls).toEqual(["type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm"]);
  });

  it("serves the wasm configs over ECDS, and the remote module verifies against its sha256", async () => {
    client.request({ typeUrl: TYPE_URLS.extensionConfig, names: ["add-header", "conn-guard"] });
    const ecds = await client.next(TYPE_URLS.extensionConfig);
    const byName = new Map(resourcesOf<{ typed_config: { type_url: string; value: Buffer } }>(ecds).map((r) => [r.name, r.message]));
    type Wasm = { config: { name: string; vm_config: { vm_id: string; code: { local?: { inline_bytes: Buffer } | null; remote?: { http_uri: { uri: string; cluster: string }; sha256: string } | null } } } };
    const http = unpackAny<Wasm>(byName.get("add-header")!.typed_config);
    expect(byName.get("add-header")!.typed_config.type_url).toBe("type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm");
    const inline = http.config.vm_config.code.local!.inline_bytes;
    const inlineSha = createHash("sha256").update(inline).digest("hex");
    expect(http.config.name).toBe(`add-header@${inlineSha.slice(0, 8)}`);
    expect(http.config.vm_config.vm_id).toContain(inlineSha.slice(0, 8));

    const net = unpackAny<Wasm>(byName.get("conn-guard")!.typed_config);
    expect(byName.get("conn-guard")!.typed_config.type_url).toBe("type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm");
    const remote = net.config.vm_config.code.remote!;
    expect(remote.http_uri.cluster).toBe("wasmxds_modules");
    expect(remote.http_uri.uri).toBe(`http://127.0.0.1:${modulesPort}/modules/${remote.sha256}.wasm`);
    const res = await fetch(remote.http_uri.uri);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    // Envoy compares lowercase hex of the raw body with RemoteDataSource.sha256.
    expect(createHash("sha256").update(body).digest("hex")).toBe(remote.sha256);
    expect(body.subarray(0, 4)).toEqual(Buffer.from("\0asm", "latin1"));
  });

  it("shows the node and the filters on the admin API", async () => {
    const nodes = (await (await fetch(`http://127.0.0.1:${adminPort}/v1/nodes`)).json()) as { nodes: Array<{ id: string; cluster: string; types: Record<string, { acked?: string }> }> };
    const node = nodes.nodes.find((n) => n.id === "envoy-e2e")!;
    expect(node.cluster).toBe("edge");
    expect(node.types.LDS?.acked).toMatch(/^[0-9a-f]{16}$/);
    const filters = (await (await fetch(`http://127.0.0.1:${adminPort}/v1/filters`)).json()) as { filters: Array<{ name: string; current: { plugin: string } }> };
    expect(filters.filters.map((f) => f.name).sort()).toEqual(["add-header", "conn-guard"]);
    expect(filters.filters[0]!.current.plugin).toMatch(/^add-header@[0-9a-f]{8}$/);
    const events = (await (await fetch(`http://127.0.0.1:${adminPort}/v1/events?type=node-connected`)).json()) as { events: Array<{ message: string }> };
    expect(events.events.map((e) => e.message)).toContain("envoy-e2e connected");
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    expect(metrics).toMatch(/^wasmxds_connected_nodes 1$/m);
    expect(metrics).toMatch(/^wasmxds_xds_messages_total\{type="LDS",kind="ack"\} 1$/m);
    expect(metrics).toMatch(/^wasmxds_events_total\{type="published"\} 1$/m);
    const missing = await fetch(`http://127.0.0.1:${adminPort}/v1/nope`);
    expect(missing.status).toBe(404);
  });

  it("wasmxds status prints the filters, the node and recent events", async () => {
    const out = await runCli(["status", "--admin-address", `127.0.0.1:${adminPort}`]);
    expect(out).toMatch(/^wasmxds serving version [0-9a-f]{16}$/m);
    expect(out).toMatch(/^ {2}add-header http add-header@[0-9a-f]{8} \[good\]/m);
    expect(out).toMatch(/^ {2}envoy-e2e \(edge\) sotw {2}CDS [0-9a-f]{8}/m);
    expect(out).toMatch(/node-connected +envoy-e2e connected/);
  });

  it("shows which xDS protocol each node speaks, on the admin API and in wasmxds status", async () => {
    const delta = new DeltaClient(port, { id: "envoy-delta", cluster: "edge" });
    try {
      delta.request({ typeUrl: TYPE_URLS.cluster });
      const cds = await delta.next(TYPE_URLS.cluster);
      expect(cds.resources.map((r) => r.name).sort()).toEqual(["backend", "wasmxds_modules"]);
      delta.ack(cds);
      const nodes = (await (await fetch(`http://127.0.0.1:${adminPort}/v1/nodes`)).json()) as { nodes: Array<{ id: string; protocol: string }> };
      expect(Object.fromEntries(nodes.nodes.map((n) => [n.id, n.protocol]))).toEqual({ "envoy-delta": "delta", "envoy-e2e": "sotw" });
      const out = await runCli(["status", "--admin-address", `127.0.0.1:${adminPort}`]);
      expect(out).toMatch(/^ {2}envoy-delta \(edge\) delta {2}CDS [0-9a-f]{8}/m);
      expect(out).toMatch(/^ {2}envoy-e2e \(edge\) sotw {2}CDS [0-9a-f]{8}/m);
    } finally {
      delta.cancel();
    }
  });

  it("exits 0 on SIGTERM", async () => {
    expect(await cli.stop()).toBe(0);
    expect(cli.lines.some((l) => l.msg === "shutting down")).toBe(true);
  });
});
