import { describe, expect, it } from "vitest";
import { DEFAULT_HEALTH } from "../../src/config/model";
import { parseConfig } from "../../src/config/parse";
import { issues, withFilter } from "../helpers/config-issues";

const SHA = "a".repeat(64);

const VALID = `
filters:
  - name: add-header
    kind: http
    module: modules/add_header.wasm
    rootId: add_header
    configuration: { header: x-demo }
  - name: conn-guard
    kind: network
    url: https://artifacts.example/conn_guard.wasm
    sha256: ${SHA}
    vmId: guard
    vmConfiguration: plain text
    failurePolicy: FAIL_RELOAD
    reloadBackoff: { base: 250ms, max: 1m30s }
    code: remote
    discovery: listener
listeners:
  - name: ingress
    address: 0.0.0.0:10000
    http:
      filters: [add-header]
      routes: [{ prefix: /, cluster: backend }, { path: /exact, cluster: other }]
      statPrefix: edge
  - name: tcp-in
    address: "[::1]:10001"
    tcp:
      filters: [conn-guard]
      cluster: backend
clusters:
  - name: backend
    endpoints: [127.0.0.1:8080]
  - name: other
    endpoints: [other.internal:80, "[::1]:81"]
    connectTimeout: 250ms
    http2: true
`;

describe("parseConfig", () => {
  it("accepts the documented format and applies defaults", () => {
    const config = parseConfig(VALID);
    expect(config.server).toEqual({});
    expect(config.filters[0]).toEqual({
      name: "add-header",
      kind: "http",
      module: { type: "file", path: "modules/add_header.wasm" },
      rootId: "add_header",
      configuration: '{"header":"x-demo"}',
      failurePolicy: "FAIL_CLOSED",
      code: "auto",
      discovery: "ecds",
      preflight: true,
      health: DEFAULT_HEALTH,
    });
    expect(config.filters[1]).toEqual({
      name: "conn-guard",
      kind: "network",
      module: { type: "url", url: "https://artifacts.example/conn_guard.wasm", sha256: SHA },
      rootId: "",
      vmId: "guard",
      vmConfiguration: "plain text",
      failurePolicy: "FAIL_RELOAD",
      reloadBackoff: { baseMs: 250, maxMs: 90_000 },
      code: "remote",
      discovery: "listener",
      preflight: true,
      health: DEFAULT_HEALTH,
    });
    expect(config.listeners).toEqual([
      {
        kind: "http",
        name: "ingress",
        address: { host: "0.0.0.0", port: 10000 },
        statPrefix: "edge",
        filters: ["add-header"],
        routes: [
          { prefix: "/", cluster: "backend" },
          { path: "/exact", cluster: "other" },
        ],
      },
      {
        kind: "tcp",
        name: "tcp-in",
        address: { host: "::1", port: 10001 },
        statPrefix: "tcp-in",
        filters: ["conn-guard"],
        cluster: "backend",
      },
    ]);
    expect(config.clusters).toEqual([
      { name: "backend", endpoints: [{ host: "127.0.0.1", port: 8080 }], connectTimeoutMs: 5000, http2: false },
      {
        name: "other",
        endpoints: [
          { host: "other.internal", port: 80 },
          { host: "::1", port: 81 },
        ],
        connectTimeoutMs: 250,
        http2: true,
      },
    ]);
  });

  it("returns a deeply frozen value", () => {
    const config = parseConfig(VALID);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.filters[0]?.module)).toBe(true);
    expect(Object.isFrozen(config.listeners[0]?.address)).toBe(true);
  });

  it("passes configuration strings as written and other JSON values as JSON text", () => {
    const texts = [
      ['configuration: \'{"a": 1}\'', '{"a": 1}'],
      ["configuration: [1, two, true, null]", '[1,"two",true,null]'],
      ["configuration: 42", "42"],
      ["configuration: { b: 2, a: { c: [] } }", '{"b":2,"a":{"c":[]}}'],
    ] as const;
    for (const [line, expected] of texts) {
      const config = parseConfig(withFilter(`module: m.wasm\n${line}`));
      expect(config.filters[0]?.configuration).toBe(expected);
    }
    expect(parseConfig(withFilter("module: m.wasm\nconfiguration:")).filters[0]?.configuration).toBeUndefined();
  });

  it("accepts an empty section and wasmxds.yml-style null lists", () => {
    expect(parseConfig("filters:\nlisteners: []\nclusters:\n")).toEqual({ server: {}, filters: [], listeners: [], clusters: [] });
  });

  it("parses server.modulesBaseUrl", () => {
    const config = parseConfig("server: { modulesBaseUrl: 'http://wasmxds.internal:8080/base/' }\n");
    expect(config.server).toEqual({ modulesBaseUrl: { host: "wasmxds.internal", port: 8080, basePath: "/base" } });
    expect(issues("server: { modulesBaseUrl: 'https://x' }\n")).toEqual([
      'wasmxds.yaml: server.modulesBaseUrl: expected an http:// URL like http://wasmxds.internal:18002, got "https://x" (only http is supported)',
    ]);
  });
});

describe("health and preflight settings", () => {
  it("parses a filter's health policy with durations and defaults the rest", () => {
    const config = parseConfig(`
filters:
  - name: f
    kind: http
    module: m.wasm
    preflight: false
    health: { maxCrashes: 3, window: 2m, goodAfter: 10s }
`);
    expect(config.filters[0]!.preflight).toBe(false);
    expect(config.filters[0]!.health).toEqual({
      maxNacks: 0,
      maxCrashes: 3,
      windowMs: 120_000,
      goodAfterMs: 10_000,
      rollback: true,
      nodeShare: 0.5,
      maxFailureRatio: 1,
      maxFailureRatioIncrease: 0.01,
      minRequests: 100,
    });
  });

  it("parses the canary analysis gates of health and rollout.gates, and names a ratio out of range", () => {
    const config = parseConfig(`
filters:
  - name: f
    kind: http
    module: m.wasm
    health: { maxFailureRatio: 0.05, maxFailureRatioIncrease: 0.002, minRequests: 500 }
    rollout:
      steps: [{ percent: 100 }]
      gates: { maxFailureRatioIncrease: 0.005, minRequests: 1000 }
`);
    const f = config.filters[0]!;
    expect(f.health).toMatchObject({ maxFailureRatio: 0.05, maxFailureRatioIncrease: 0.002, minRequests: 500 });
    expect(f.rollout?.gates).toMatchObject({ maxFailureRatio: 1, maxFailureRatioIncrease: 0.005, minRequests: 1000, maxNacks: 0, minAcked: 1 });
    expect(issues(withFilter("module: m.wasm\nhealth: { maxFailureRatio: 1.5, minRequests: 0 }"))).toEqual([
      "wasmxds.yaml: filters[0].health.maxFailureRatio: expected a ratio between 0 and 1",
      "wasmxds.yaml: filters[0].health.minRequests: expected at least 1",
    ]);
  });

  it("names the field of a bad health setting", () => {
    expect(issues(withFilter("module: m.wasm\nhealth: { maxCrashes: -1, window: soon }"))).toEqual([
      "wasmxds.yaml: filters[0].health.maxCrashes: expected at least 0",
      expect.stringMatching(/^wasmxds\.yaml: filters\[0\]\.health\.window: /),
    ]);
  });
});
