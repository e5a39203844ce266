/**
 * `wasmxds import` (issue 21) on inputs shaped like the ones people publish:
 * EnvoyFilters inserting an HTTP Wasm filter before the router (module on
 * the proxy's disk, runtime, vm_id, allow_precompiled, environment) and a
 * network filter before tcp_proxy (remote code, through a TypedStruct), and
 * an Istio WasmPlugin with url, sha256, pluginConfig, imagePullPolicy,
 * phase, priority, selector and env. The entries it prints load as
 * wasmxds.yaml (once the sha256 it asks for is added), and what it could
 * not carry over is said on standard error.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { main } from "../../src/cli/main";
import { parseConfig } from "../../src/config/parse";
import { memoryTerminal } from "../helpers/terminal";

const SHA = "9f2a4ac0b5d7a07bbcd2ee8c4e1a0fbc3e09c6c73d3fd4d29f87d5e3e7b9c0a1";

const ENVOY_FILTERS = `
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: add-header
  namespace: istio-system
spec:
  workloadSelector:
    labels:
      app: productpage
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_INBOUND
      listener:
        portNumber: 9080
        filterChain:
          filter:
            name: envoy.filters.network.http_connection_manager
            subFilter:
              name: envoy.filters.http.router
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.filters.http.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
          config:
            name: add-header
            root_id: add_header
            configuration:
              "@type": type.googleapis.com/google.protobuf.StringValue
              value: |
                {"header": "x-wasm", "value": "on"}
            vm_config:
              vm_id: add-header-vm
              runtime: envoy.wasm.runtime.wamr
              allow_precompiled: true
              environment_variables:
                host_env_keys: [POD_NAME]
                key_values: { CLUSTER: east }
              code:
                local:
                  filename: /var/local/lib/wasm-filters/add-header.wasm
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: tcp-metrics
spec:
  configPatches:
  - applyTo: NETWORK_FILTER
    match:
      context: SIDECAR_OUTBOUND
      listener:
        filterChain:
          filter:
            name: envoy.filters.network.tcp_proxy
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/udpa.type.v1.TypedStruct
          type_url: type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          value:
            config:
              name: tcp-metrics
              root_id: tcp_metrics
              fail_open: true
              vm_config:
                runtime: envoy.wasm.runtime.v8
                code:
                  remote:
                    http_uri:
                      uri: https://storage.example.com/filters/tcp-metrics.wasm
                      cluster: remote_wasm
                      timeout: 10s
                    sha256: ${SHA}
`;

const WASM_PLUGINS = `
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: stats-filter
spec:
  url: https://artifacts.example.com/stats-filter.wasm
  sha256: ${SHA}
  phase: STATS
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: openid-connect
  namespace: istio-ingress
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  url: oci://ghcr.io/example/openid:1.0
  imagePullPolicy: IfNotPresent
  imagePullSecret: private-registry
  phase: AUTHN
  priority: 10
  pluginName: openid
  pluginConfig:
    openid_server: authn
    openid_realm: ingress
  vmConfig:
    env:
    - name: POD_NAME
      valueFrom: HOST
    - name: TRUST_DOMAIN
      value: cluster.local
`;

describe("wasmxds import", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wasmxds-import-"));
    await writeFile(join(dir, "envoyfilters.yaml"), ENVOY_FILTERS);
    await writeFile(join(dir, "wasmplugins.yaml"), WASM_PLUGINS);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function run(...args: string[]) {
    const term = memoryTerminal();
    const code = await main(["import", ...args], term);
    return { code, ...term.text() };
  }

  it("converts EnvoyFilters: before the router, before tcp_proxy, local file, runtime, vm_id, allow_precompiled, env", async () => {
    const r = await run(join(dir, "envoyfilters.yaml"));
    expect(r.code).toBe(0);
    const { filters } = parse(r.out) as { filters: Record<string, unknown>[] };
    expect(filters).toEqual([
      {
        name: "add-header",
        kind: "http",
        rootId: "add_header",
        configuration: '{"header": "x-wasm", "value": "on"}\n',
        vmId: "add-header-vm",
        runtime: "wamr",
        allowPrecompiled: true,
        env: { hostKeys: ["POD_NAME"], values: { CLUSTER: "east" } },
        hostPath: "/var/local/lib/wasm-filters/add-header.wasm",
        selector: { metadata: { app: "productpage" } },
      },
      {
        name: "tcp-metrics",
        kind: "network",
        rootId: "tcp_metrics",
        failurePolicy: "FAIL_OPEN",
        url: "https://storage.example.com/filters/tcp-metrics.wasm",
        sha256: SHA,
      },
    ]);
    expect(r.err).toContain("envoyfilters.yaml#1: EnvoyFilter \"add-header\": spec.configPatches[0]: vm_config.code.local.filename: became hostPath; add sha256");
    expect(r.err).toContain("add it to the filters of an http listener (the proxy's port 9080); the match context (SIDECAR_INBOUND) is not carried over");
    expect(r.err).toContain("add it to the filters of a tcp listener; the match context (SIDECAR_OUTBOUND) is not carried over");
    expect(r.err).toContain("spec.workloadSelector.labels became selector.metadata");
    // Once the promised sha256 is added, the entries load as wasmxds.yaml.
    const first = filters[0] as Record<string, unknown>;
    const { selector: _s, ...http } = first;
    const config = parseConfig(
      `${JSON.stringify({
        filters: [{ ...http, sha256: SHA, preflightEnv: { POD_NAME: "p" } }, filters[1]],
        listeners: [
          { name: "web", address: "127.0.0.1:9080", http: { filters: ["add-header"], routes: [{ prefix: "/", cluster: "app" }] } },
          { name: "tcp", address: "127.0.0.1:9090", tcp: { filters: ["tcp-metrics"], cluster: "app" } },
        ],
        clusters: [{ name: "app", endpoints: ["127.0.0.1:8080"] }],
      })}`,
    );
    expect(config.filters[0]).toMatchObject({ runtime: "wamr", allowPrecompiled: true, hostPath: "/var/local/lib/wasm-filters/add-header.wasm", module: { type: "host", sha256: SHA } });
    expect(config.filters[1]).toMatchObject({ kind: "network", failurePolicy: "FAIL_OPEN", module: { type: "url", sha256: SHA } });
  });

  it("converts WasmPlugins: url, sha256, pluginConfig, imagePullPolicy, selector, env; phase and priority become order", async () => {
    const out = join(dir, "filters.yaml");
    const r = await run(join(dir, "wasmplugins.yaml"), "--out", out);
    expect(r.code).toBe(0);
    expect(r.out).toBe("");
    const { filters } = parse(await readFile(out, "utf8")) as { filters: Record<string, unknown>[] };
    // AUTHN runs before STATS, whatever the order in the file.
    expect(filters.map((f) => f.name)).toEqual(["openid-connect", "stats-filter"]);
    expect(filters[0]).toEqual({
      name: "openid-connect",
      kind: "http",
      url: "oci://ghcr.io/example/openid:1.0",
      pullPolicy: "IfNotPresent",
      rootId: "openid",
      configuration: { openid_server: "authn", openid_realm: "ingress" },
      env: { hostKeys: ["POD_NAME"], values: { TRUST_DOMAIN: "cluster.local" } },
      selector: { metadata: { istio: "ingressgateway" } },
    });
    expect(filters[1]).toEqual({ name: "stats-filter", kind: "http", url: "https://artifacts.example.com/stats-filter.wasm", sha256: SHA });
    expect(r.err).toContain("order: phase and priority become positions in each listener's filters list; list them as openid-connect, stats-filter");
    expect(r.err).toContain('WasmPlugin "openid-connect": spec.imagePullSecret: a Kubernetes Secret name');
    expect(r.err).toContain("spec.vmConfig.env: host keys POD_NAME: give the pre-flight check values with preflightEnv");
    expect(r.err).toContain(`wrote 2 filter(s) to ${out}`);
    // The https plugin loads as is.
    const config = parseConfig(
      JSON.stringify({
        filters: [filters[1]],
        listeners: [{ name: "web", address: "127.0.0.1:9080", http: { filters: ["stats-filter"], routes: [{ prefix: "/", cluster: "app" }] } }],
        clusters: [{ name: "app", endpoints: ["127.0.0.1:8080"] }],
      }),
    );
    expect(config.filters[0]?.module).toEqual({ type: "url", url: "https://artifacts.example.com/stats-filter.wasm", sha256: SHA });
  });

  it("file:// becomes hostPath, a bare image reference oci://, http:// insecure; sha256 asked for where required", async () => {
    await writeFile(
      join(dir, "schemes.yaml"),
      `kind: WasmPlugin
metadata: { name: local }
spec: { url: "file:///opt/filters/local.wasm", failStrategy: FAIL_OPEN, type: NETWORK }
---
kind: WasmPlugin
metadata: { name: bare }
spec: { url: "ghcr.io/example/bare:2" }
---
kind: WasmPlugin
metadata: { name: "plain.http" }
spec: { url: "http://10.0.0.5/f.wasm", sha256: ${SHA} }
`,
    );
    const r = await run(join(dir, "schemes.yaml"));
    const { filters } = parse(r.out) as { filters: Record<string, unknown>[] };
    expect(filters).toEqual([
      { name: "local", kind: "network", hostPath: "/opt/filters/local.wasm", failurePolicy: "FAIL_OPEN" },
      { name: "bare", kind: "http", url: "oci://ghcr.io/example/bare:2" },
      { name: "plain.http", kind: "http", url: "http://10.0.0.5/f.wasm", insecure: true, sha256: SHA },
    ]);
    expect(r.err).toContain('WasmPlugin "local": spec.sha256: missing; wasmxds requires the module\'s sha256 here');
    expect(r.err).toContain('WasmPlugin "plain.http": spec.url: plain http: carried over with insecure: true');
  });

  it("names a file it cannot read or parse, and skips other kinds with a note", async () => {
    const missing = await run(join(dir, "missing.yaml"));
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/missing\.yaml: cannot be read/);
    await writeFile(join(dir, "bad.yaml"), "kind: [unclosed\n");
    const bad = await run(join(dir, "bad.yaml"));
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/bad\.yaml: document 1: /);
    await writeFile(join(dir, "other.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n");
    const r = await run(join(dir, "other.yaml"));
    expect(r.code).toBe(1);
    expect(r.err).toContain('other.yaml#1: ConfigMap "x": skipped: not a WasmPlugin or EnvoyFilter');
  });
});
