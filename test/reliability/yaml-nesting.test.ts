/**
 * Regression: deeply nested YAML gave "Maximum call stack size exceeded"
 * with no file or line (yaml composes recursively, so do zod and the JSON
 * checks), and an alias inside its own anchor (`&a {x: *a}`) crashed the
 * schema the same way with no file at all. Nesting is now bounded before
 * anything recursive runs, and each error names the file and line.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { MAX_YAML_DEPTH } from "../../src/config/yaml-limits";
import { ConfigError } from "../../src/errors";
import { issues, withFilter } from "../helpers/config-issues";

function rejection(text: string): string {
  const found = issues(text).join("\n");
  expect(found).not.toMatch(/call stack/i);
  return found;
}

const NESTED = /^wasmxds\.yaml:(\d+):(\d+): lists and mappings nested more than 64 levels deep/;

describe("deeply nested YAML", () => {
  it.each([
    ["flow lists", `filters: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`, 1],
    ["flow mappings", `filters: ${"{a: ".repeat(20_000)}${"}".repeat(20_000)}\n`, 1],
    ["unclosed brackets (a truncated save)", `filters: ${"[".repeat(2_000_000)}`, 1],
    ["block lists by indentation", `filters:\n${Array.from({ length: 5000 }, (_, i) => `${" ".repeat(i)}- `).join("\n")}x\n`, 65],
    ["block mappings by indentation", `${Array.from({ length: 5000 }, (_, i) => `${" ".repeat(i)}a:`).join("\n")} 1\n`, 65],
    ["dashes on one line", `filters: ${"- ".repeat(500_000)}x\n`, 1],
  ])("refuses %s naming the file and line", (_name, text, line) => {
    const found = rejection(text);
    expect(found).toMatch(NESTED);
    expect(Number(NESTED.exec(found)?.[1])).toBe(line);
  });

  it("points at the line inside a filter's configuration where the nesting goes too deep", () => {
    const deep = `${"[".repeat(100)}${"]".repeat(100)}`;
    const found = rejection(withFilter(`module: m.wasm\nconfiguration:\n  rules: ${deep}`));
    expect(found).toMatch(/^wasmxds\.yaml:7:\d+: lists and mappings nested more than 64/);
  });

  it("accepts nesting up to the limit in a filter's configuration", () => {
    const depth = MAX_YAML_DEPTH - 4; // the document, filters, the filter and `configuration` hold 4 levels
    const config = parseConfig(withFilter(`module: m.wasm\nconfiguration: ${"[".repeat(depth)}${"]".repeat(depth)}`));
    expect(config.filters[0]?.configuration).toBe(`${"[".repeat(depth)}${"]".repeat(depth)}`);
  });

  it("refuses an alias inside the node its anchor names (a cycle), at the alias's line", () => {
    const found = rejection("filters:\n  - &a {name: x, kind: http, module: m.wasm, configuration: {x: *a}}\n");
    expect(found).toMatch(/^wasmxds\.yaml:2:\d+: alias \*a is inside the node &a names/);
  });

  it("refuses aliases that nest past the limit once expanded, naming the path", () => {
    const text = `x: &a ${"[".repeat(40)}${"]".repeat(40)}\nfilters:\n  - ${"[".repeat(30)}*a${"]".repeat(30)}\n`;
    expect(rejection(text)).toMatch(/^wasmxds\.yaml: filters\[0\]\[0\].*: nested more than 64 levels deep once aliases are expanded/);
  });

  it("refuses a billion laughs (yaml's alias count, set to 1000) with a clear message", () => {
    const names = "abcdefghij";
    let text = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
    for (let i = 1; i < names.length; i++) text += `${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(",")}]\n`;
    const t0 = performance.now();
    expect(rejection(`${text}filters: []\n`)).toMatch(/^wasmxds\.yaml: aliases expand to too much data \(over 1000 alias uses/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("still accepts ordinary anchors and merge keys", () => {
    const config = parseConfig(`
filters:
  - &shared { kind: http, failurePolicy: FAIL_OPEN, name: a, module: a.wasm }
  - { <<: *shared, name: b, module: b.wasm }
listeners:
  - name: l
    address: 127.0.0.1:10000
    http: { filters: [a, b], routes: [{ prefix: /, cluster: c }] }
clusters:
  - { name: c, endpoints: ["127.0.0.1:8080"] }
`);
    expect(config.filters.map((f) => [f.name, f.failurePolicy])).toEqual([
      ["a", "FAIL_OPEN"],
      ["b", "FAIL_OPEN"],
    ]);
  });

  it("truncates a huge scalar in messages (binary or a whole file read as one string)", () => {
    try {
      parseConfig("x".repeat(1_000_000));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message.length).toBeLessThan(300);
      expect((err as ConfigError).message).toMatch(/\(1000000 characters\)/);
    }
  });
});
