/**
 * reloadBackoff as Envoy's FAIL_RELOAD reads it (docs/ENVOY.md, "FAIL_RELOAD
 * backoff"): only base_interval is used, and a base of 1ms makes
 * JitteredLowerBoundBackOffStrategy compute `random % (1 >> 1)`, a division
 * by zero on the first reload check. Regression: a 1ms base was accepted and
 * max_interval was sent although Envoy ignores it.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { configWarnings } from "../../src/config/warnings";
import { ConfigError } from "../../src/errors";
import { decodeYaml, fakeModule, pluginOf } from "../helpers/decoded";

const mod = fakeModule("m");

function yaml(backoff: string): string {
  return `
filters:
  - { name: f, kind: http, module: m.wasm, failurePolicy: FAIL_RELOAD, reloadBackoff: ${backoff} }
listeners:
  - { name: l, address: '127.0.0.1:10000', http: { filters: [f], routes: [{ prefix: /, cluster: c }] } }
clusters:
  - { name: c, endpoints: ["127.0.0.1:8080"] }
`;
}

function issuesOf(text: string): readonly string[] {
  try {
    parseConfig(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe("reloadBackoff", () => {
  it("refuses a base below 2ms, saying why", () => {
    for (const base of ["1ms", "0ms"]) {
      const issues = issuesOf(yaml(`{ base: ${base} }`));
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatch(/^wasmxds\.yaml: filters\[0\]\.reloadBackoff\.base: expected at least 2ms, got "[0-9.]+ms": /);
      expect(issues[0]).toContain("divide by zero");
    }
  });

  it("accepts a base of 2ms", () => {
    expect(issuesOf(yaml("{ base: 2ms }"))).toEqual([]);
  });

  it("sends base_interval only: max is accepted, warned about and never sent", () => {
    const parsed = parseConfig(yaml("{ base: 250ms, max: 1m }"));
    expect(parsed.filters[0]?.reloadBackoff).toEqual({ baseMs: 250, maxMs: 60_000 });
    expect(configWarnings(parsed)).toEqual(["wasmxds.yaml: filters[0].reloadBackoff.max: Envoy ignores it (FAIL_RELOAD reads only base), so it is not sent"]);
    const d = decodeYaml(yaml("{ base: 250ms, max: 1m }"), new Map([["f", mod]]));
    expect(pluginOf(d.extensions.get("f")?.typed_config).reload_config?.backoff).toEqual({
      base_interval: { seconds: "0", nanos: 250_000_000 },
      max_interval: null,
    });
  });
});
