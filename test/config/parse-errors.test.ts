import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { issues, withFilter } from "../helpers/config-issues";

const SHA = "a".repeat(64);

describe("parseConfig errors", () => {
  it("names the file, the field path and what was expected", () => {
    expect(issues(withFilter("url: https://x.example/m.wasm\nsha256: ABC"))).toEqual([
      "wasmxds.yaml: filters[0].sha256: expected 64 lowercase hex characters",
    ]);
  });

  it("rejects unknown keys with a did-you-mean hint", () => {
    expect(issues(withFilter("module: m.wasm\nrootid: x"))).toEqual([
      'wasmxds.yaml: filters[0].rootid: unknown key; did you mean "rootId"?',
    ]);
    expect(issues(`${withFilter("module: m.wasm")}\nlistener: []\n`)).toEqual([
      'wasmxds.yaml: listener: unknown key; did you mean "listeners"?',
    ]);
    expect(issues(withFilter("module: m.wasm\nzzz: 1"))).toEqual([
      "wasmxds.yaml: filters[0].zzz: unknown key; expected one of name, kind, module, url, sha256, insecure, pullSecret, pullPolicy, hostPath, runtime, allowPrecompiled, env, preflightEnv, rootId, vmId, configuration, vmConfiguration, failurePolicy, reloadBackoff, code, discovery, smokeTest, preflight, health, selector, rollout",
    ]);
  });

  it("suggests the closest enum value", () => {
    expect(issues(withFilter("module: m.wasm\nfailurePolicy: FAIL_OPNE"))).toEqual([
      'wasmxds.yaml: filters[0].failurePolicy: expected one of "FAIL_CLOSED", "FAIL_OPEN" or "FAIL_RELOAD", got "FAIL_OPNE"; did you mean "FAIL_OPEN"?',
    ]);
  });

  it("rejects a filter of the wrong kind in a listener", () => {
    const text = `
filters:
  - { name: guard, kind: network, module: g.wasm }
listeners:
  - name: l
    address: 127.0.0.1:10000
    http: { filters: [guard], routes: [{ prefix: /, cluster: c }] }
clusters:
  - { name: c, endpoints: ["127.0.0.1:8080"] }
`;
    expect(issues(text)).toEqual([
      'wasmxds.yaml: listeners[0].http.filters[0]: filter "guard" (filters[0]) is a network filter; an http listener runs http filters',
    ]);
  });

  it("rejects unknown filters and clusters", () => {
    const text = `
filters:
  - { name: add-header, kind: http, module: a.wasm }
listeners:
  - name: l
    address: 127.0.0.1:10000
    http: { filters: [add-headr, zzz], routes: [{ prefix: /, cluster: backnd }] }
  - name: t
    address: 127.0.0.1:10001
    tcp: { cluster: nowhere }
clusters:
  - { name: backend, endpoints: ["127.0.0.1:8080"] }
`;
    expect(issues(text)).toEqual([
      'wasmxds.yaml: listeners[0].http.filters[0]: unknown filter "add-headr"; did you mean "add-header"?',
      'wasmxds.yaml: listeners[0].http.filters[1]: unknown filter "zzz"; declared filters: "add-header"',
      'wasmxds.yaml: listeners[0].http.routes[0].cluster: unknown cluster "backnd"; did you mean "backend"?',
      'wasmxds.yaml: listeners[1].tcp.cluster: unknown cluster "nowhere"; declared clusters: "backend"',
    ]);
  });

  it("rejects module paths that leave the config folder", () => {
    expect(issues(withFilter("module: modules/../../x.wasm"))).toEqual([
      'wasmxds.yaml: filters[0].module: expected a path inside the config folder, got "modules/../../x.wasm", which leaves it',
    ]);
    expect(issues(withFilter("module: /etc/x.wasm"))).toEqual([
      'wasmxds.yaml: filters[0].module: expected a path relative to the config folder, got the absolute path "/etc/x.wasm"',
    ]);
    expect(parseConfig(withFilter("module: ./modules/../m.wasm")).filters[0]?.module).toEqual({ type: "file", path: "m.wasm" });
  });

  it("reports YAML syntax errors with line and column", () => {
    expect(issues("filters:\n  - name: x\n    kind: [http\nlisteners: []\n")).toEqual([
      "wasmxds.yaml:4:1: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ]);
    expect(issues("clusters: []\nclusters: []\n")).toEqual(["wasmxds.yaml:2:1: Map keys must be unique"]);
  });

  it("uses the file name it is given", () => {
    expect(() => parseConfig("- 1\n", "conf/wasmxds.yml")).toThrow(
      "conf/wasmxds.yml: expected a mapping with filters, listeners and clusters, got a list",
    );
    expect(() => parseConfig("")).toThrow("wasmxds.yaml: expected a mapping with filters, listeners and clusters, got an empty document");
  });

  it("checks module/url, sha256, reloadBackoff and listener shapes", () => {
    expect(issues(withFilter("module: m.wasm\nurl: https://x.example/m.wasm\nsha256: " + SHA))).toEqual([
      "wasmxds.yaml: filters[0].url: expected either module or url, not both",
    ]);
    expect(issues(withFilter("rootId: r"))).toEqual([
      "wasmxds.yaml: filters[0]: expected module (a .wasm file in the config folder) or url (with sha256)",
    ]);
    expect(issues(withFilter("url: ftp://x/m.wasm"))).toEqual([
      'wasmxds.yaml: filters[0].url: expected an http://, https:// or oci:// URL, got "ftp://x/m.wasm"',
      "wasmxds.yaml: filters[0].sha256: required with url: 64 lowercase hex characters",
    ]);
    expect(issues(withFilter("module: m.wasm\nreloadBackoff: { base: 1s }"))).toEqual([
      "wasmxds.yaml: filters[0].reloadBackoff: only allowed with failurePolicy FAIL_RELOAD, not FAIL_CLOSED",
    ]);
    expect(issues(withFilter("module: m.wasm\nfailurePolicy: FAIL_RELOAD\nreloadBackoff: { base: 2s, max: 1s }"))).toEqual([
      "wasmxds.yaml: filters[0].reloadBackoff.max: expected at least base (2000ms), got 1000ms",
    ]);
    expect(issues(withFilter("module: m.wasm\nfailurePolicy: FAIL_RELOAD\nreloadBackoff: { base: soon }"))).toEqual([
      'wasmxds.yaml: filters[0].reloadBackoff.base: expected a duration like 250ms, 30s, 2m or 1m30s, got "soon"',
    ]);
    const listeners = `
listeners:
  - { name: a, address: "localhost:1", http: { routes: [] } }
  - { name: b, address: "127.0.0.1:2", http: { routes: [{ cluster: c }] }, tcp: { cluster: c } }
  - { name: c, address: "127.0.0.1:70000" }
clusters:
  - { name: c, endpoints: [] }
`;
    expect(issues(listeners)).toEqual([
      'wasmxds.yaml: listeners[0].address: expected an IP address (Envoy listeners bind IP addresses, not names), got "localhost"',
      "wasmxds.yaml: listeners[0].http.routes: expected at least one route, e.g. [{ prefix: /, cluster: backend }]",
      "wasmxds.yaml: listeners[1].http.routes[0]: expected prefix (e.g. /) or path (an exact path)",
      "wasmxds.yaml: listeners[1].tcp: expected either http or tcp, not both",
      'wasmxds.yaml: listeners[2].address: expected a port from 1 to 65535 in "127.0.0.1:70000"',
      "wasmxds.yaml: listeners[2]: expected http (filters and routes) or tcp (filters and cluster)",
      "wasmxds.yaml: clusters[0].endpoints: expected at least one HOST:PORT endpoint",
    ]);
  });

  it("reports wrong types and missing fields in YAML terms", () => {
    expect(issues("filters:\n  - { name: 3, kind: http, module: m.wasm }\nclusters: {}\n")).toEqual([
      "wasmxds.yaml: clusters: expected a list, got a mapping",
      "wasmxds.yaml: filters[0].name: expected a string, got 3",
    ]);
    expect(issues("filters:\n  - { name: f, module: m.wasm }\n")).toEqual([
      'wasmxds.yaml: filters[0].kind: required: expected "http" or "network"',
    ]);
  });

  it("rejects duplicate names, addresses and the reserved module cluster name", () => {
    const text = `
filters:
  - { name: f, kind: http, module: a.wasm }
  - { name: f, kind: http, module: b.wasm }
listeners:
  - { name: l, address: "[::1]:80", tcp: { cluster: c } }
  - { name: l, address: "[0:0:0:0:0:0:0:1]:80", tcp: { cluster: c } }
clusters:
  - { name: c, endpoints: ["127.0.0.1:1"] }
  - { name: wasmxds_modules, endpoints: ["127.0.0.1:2"] }
`;
    expect(issues(text)).toEqual([
      'wasmxds.yaml: filters[1].name: "f" is already used by filters[0]',
      'wasmxds.yaml: listeners[1].name: "l" is already used by listeners[0]',
      'wasmxds.yaml: clusters[1].name: "wasmxds_modules" is reserved for the module server cluster wasmxds adds',
      'wasmxds.yaml: listeners[1].address: [::1]:80 is already used by listeners[0] ("l")',
    ]);
  });

  it("collects errors from every section at once and does not report references to invalid entries", () => {
    const text = `
filters:
  - { name: f, kind: htp, module: a.wasm }
listeners:
  - { name: l, address: "127.0.0.1:1", http: { filters: [f, f], routes: [{ prefix: /, cluster: c }] } }
clusters:
  - { name: c, endpoints: ["127.0.0.1:x"] }
`;
    expect(issues(text)).toEqual([
      'wasmxds.yaml: filters[0].kind: expected "http" or "network", got "htp"; did you mean "http"?',
      'wasmxds.yaml: clusters[0].endpoints[0]: expected a port from 1 to 65535 in "127.0.0.1:x"',
      'wasmxds.yaml: listeners[0].http.filters[1]: filter "f" is already listed at filters[0]',
    ]);
  });
});
