/**
 * Issue 21: the Envoy Wasm fields parse into the model and are refused with
 * a file and field path when malformed, including the rules Envoy itself
 * enforces on environment_variables (a key named twice).
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { configWarnings } from "../../src/config/warnings";
import { issues, withFilter } from "../helpers/config-issues";

const SHA = "a".repeat(64);

describe("runtime, allowPrecompiled, env, preflightEnv, hostPath", () => {
  it("parse into the model; v8 and false are the defaults and are not stored", () => {
    const f = parseConfig(
      withFilter("module: m.wasm\nruntime: wasmtime\nallowPrecompiled: true\nenv: { hostKeys: [POD_NAME], values: { A: '1' } }\npreflightEnv: { POD_NAME: p-1 }"),
    ).filters[0];
    expect(f).toMatchObject({ runtime: "wasmtime", allowPrecompiled: true, env: { hostKeys: ["POD_NAME"], values: { A: "1" } }, preflightEnv: { POD_NAME: "p-1" } });
    const plain = parseConfig(withFilter("module: m.wasm\nruntime: v8\nallowPrecompiled: false")).filters[0];
    expect(plain && "runtime" in plain).toBe(false);
    expect(plain && "allowPrecompiled" in plain).toBe(false);
  });

  it("hostPath alone needs sha256 and gives a host module source", () => {
    expect(issues(withFilter("hostPath: /var/lib/f.wasm"))).toEqual([
      "wasmxds.yaml: filters[0].sha256: required with hostPath: the sha256 of the file deployed on the Envoy hosts (wasmxds cannot read it there)",
    ]);
    const f = parseConfig(withFilter(`hostPath: /var/lib/f.wasm\nsha256: ${SHA}`)).filters[0];
    expect(f?.module).toEqual({ type: "host", sha256: SHA });
    expect(f?.hostPath).toBe("/var/lib/f.wasm");
    // Without a copy there is nothing to check, and nothing to roll back to: said once per load.
    expect(configWarnings(parseConfig(withFilter(`hostPath: /var/lib/f.wasm\nsha256: ${SHA}`)))).toContain(
      "wasmxds.yaml: filters[0].hostPath: no module copy in the config folder, so this version is not pre-flight checked; add module: <a copy of the file> to have it checked",
    );
    expect(configWarnings(parseConfig(withFilter(`hostPath: /var/lib/f.wasm\nmodule: m.wasm\nsha256: ${SHA}`))).join()).not.toContain("hostPath");
  });

  it("refuses malformed values with the field path", () => {
    expect(issues(withFilter("module: m.wasm\nruntime: wasmer"))[0]).toMatch(/^wasmxds\.yaml: filters\[0\]\.runtime: expected one of "v8", "wamr" or "wasmtime", got "wasmer"/);
    expect(issues(withFilter(`hostPath: relative/f.wasm\nsha256: ${SHA}`))[0]).toMatch(/^wasmxds\.yaml: filters\[0\]\.hostPath: expected an absolute, normalised path/);
    expect(issues(withFilter(`hostPath: /a/../etc/f.wasm\nsha256: ${SHA}`))[0]).toMatch(/^wasmxds\.yaml: filters\[0\]\.hostPath: expected an absolute, normalised path/);
    expect(issues(withFilter(`hostPath: /proc/self/f.wasm\nsha256: ${SHA}`))[0]).toMatch(/^wasmxds\.yaml: filters\[0\]\.hostPath: expected a file outside \/dev, \/sys and \/proc/);
    expect(issues(withFilter("module: m.wasm\nenv: { values: { 'A=B': x } }"))[0]).toMatch(/^wasmxds\.yaml: filters\[0\]\.env\.values\.A=B: expected a variable name without '=' or NUL/);
    expect(issues(withFilter("module: m.wasm\nenv: { hostKeys: [''] }"))[0]).toMatch(/^wasmxds\.yaml: filters\[0\]\.env\.hostKeys\[0\]: expected a non-empty variable name/);
    expect(issues(withFilter("module: m.wasm\nenv: { hostkeys: [A] }"))[0]).toMatch(/^wasmxds\.yaml: filters\[0\]\.env\.hostkeys: unknown key; did you mean "hostKeys"\?/);
    expect(issues(withFilter("module: m.wasm\nallowPrecompiled: yes-please"))[0]).toMatch(/^wasmxds\.yaml: filters\[0\]\.allowPrecompiled: /);
  });

  it("refuses a key named twice, as Envoy does", () => {
    expect(issues(withFilter("module: m.wasm\nenv: { hostKeys: [A, B], values: { A: x } }"))).toEqual([
      'wasmxds.yaml: filters[0].env.hostKeys[0]: "A" is also in env.values; Envoy refuses a key named twice',
    ]);
    expect(issues(withFilter("module: m.wasm\nenv: { hostKeys: [B, B] }"))).toEqual([
      'wasmxds.yaml: filters[0].env.hostKeys[1]: "B" is listed twice; Envoy refuses a key named twice',
    ]);
  });

  it("preflightEnv only for host keys; hostPath not with url or code", () => {
    expect(issues(withFilter("module: m.wasm\nenv: { hostKeys: [A] }\npreflightEnv: { A: x, B: y }"))).toEqual([
      'wasmxds.yaml: filters[0].preflightEnv.B: "B" is not in env.hostKeys; preflightEnv gives values only to host keys (fixed values go in env.values)',
    ]);
    expect(issues(withFilter(`url: https://x.example/m.wasm\nhostPath: /opt/f.wasm\nsha256: ${SHA}`))).toEqual([
      "wasmxds.yaml: filters[0].hostPath: expected either url or hostPath, not both",
    ]);
    expect(issues(withFilter(`hostPath: /opt/f.wasm\nsha256: ${SHA}\ncode: remote`))).toEqual([
      "wasmxds.yaml: filters[0].code: not allowed with hostPath: Envoy reads the module from its own disk",
    ]);
  });
});

describe("filters sharing a VM", () => {
  const two = (a: string, b: string) => `
filters:
  - { name: a, kind: http, module: m.wasm, vmId: shared${a} }
  - { name: b, kind: http, module: m.wasm, vmId: shared${b} }
listeners:
  - { name: l, address: '127.0.0.1:10000', http: { filters: [a, b], routes: [{ prefix: /, cluster: c }] } }
clusters:
  - { name: c, endpoints: ["127.0.0.1:8080"] }
`;

  it("refuses a second filter whose env Envoy would ignore (same vmId, module and vmConfiguration)", () => {
    expect(issues(two(", env: { values: { A: '1' } }", ", env: { values: { A: '2' } }"))).toEqual([
      'wasmxds.yaml: filters[1].vmId: shares a VM with filters[0] ("a": same vmId, module and vmConfiguration, which is all Envoy keys VMs on), but differs in runtime, allowPrecompiled or env; Envoy would run it with filters[0]\'s. Give it its own vmId, or the same settings',
    ]);
    expect(issues(two("", ", runtime: wamr"))).toHaveLength(1);
  });

  it("accepts the same settings, or another vmConfiguration", () => {
    expect(() => parseConfig(two(", env: { values: { A: '1' } }", ", env: { values: { A: '1' } }"))).not.toThrow();
    expect(() => parseConfig(two(", env: { values: { A: '1' } }", ", vmConfiguration: x"))).not.toThrow();
  });
});

