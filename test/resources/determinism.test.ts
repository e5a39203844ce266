import { describe, expect, it } from "vitest";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { decodeYaml, fakeModule } from "../helpers/decoded";

const YAML = `
filters:
  - { name: z-filter, kind: http, module: z.wasm }
  - { name: a-filter, kind: http, module: a.wasm, code: remote }
listeners:
  - { name: zeta, address: "127.0.0.1:2", http: { filters: [z-filter, a-filter], routes: [{ prefix: /, cluster: b }] } }
  - { name: alpha, address: "127.0.0.1:1", http: { filters: [a-filter], routes: [{ prefix: /, cluster: a }] } }
clusters:
  - { name: b, endpoints: ["127.0.0.1:8081"] }
  - { name: a, endpoints: ["127.0.0.1:8080"] }
`;

describe("determinism", () => {
  const modules = () =>
    new Map([
      ["z-filter", fakeModule("z")],
      ["a-filter", fakeModule("a")],
    ]);

  it("gives equal versions for an equal config and sorts resources by name", () => {
    const first = decodeYaml(YAML, modules());
    const second = decodeYaml(YAML, modules());
    expect([...first.versions]).toEqual([...second.versions]);
    expect([...first.clusters.keys()]).toEqual(["a", "b", "wasmxds_modules"]);
    expect([...first.listeners.keys()]).toEqual(["alpha", "zeta"]);
    expect([...first.extensions.keys()]).toEqual(["a-filter", "z-filter"]);
  });

  it("changes only the ECDS resource when a module changes", () => {
    const before = decodeYaml(YAML, modules());
    const after = decodeYaml(YAML, new Map([...modules(), ["z-filter", fakeModule("Z")]]));
    const changed = [...before.versions].filter(([key, version]) => after.versions.get(key) !== version).map(([key]) => key);
    expect(changed).toEqual([`${TYPE_URLS.extensionConfig} z-filter`]);
  });
});
