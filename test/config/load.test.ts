import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load";
import { ConfigError } from "../../src/errors";
import { sha256Hex } from "../../src/vocabulary/sha256";

// Fake module bytes: loading does not look inside modules (the pre-flight checker does).
const FAKE = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x2a]);

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function folder(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wasmxds-config-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

async function loadIssues(dir: string): Promise<readonly string[]> {
  try {
    await loadConfig(dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

const YAML = (filters: string) => `
filters:
${filters}
listeners:
  - { name: l, address: "127.0.0.1:10000", http: { filters: [], routes: [{ prefix: /, cluster: c }] } }
clusters:
  - { name: c, endpoints: ["127.0.0.1:8080"] }
`;

describe("loadConfig", () => {
  it("reads the module files and hashes them", async () => {
    const dir = await folder({
      "wasmxds.yaml": YAML(
        `  - { name: a, kind: http, module: modules/a.wasm }\n  - { name: b, kind: http, module: ./modules/a.wasm, sha256: ${sha256Hex(FAKE)} }`,
      ),
      "modules/a.wasm": FAKE,
    });
    const loaded = await loadConfig(dir);
    expect(loaded.file).toBe(join(loaded.dir, "wasmxds.yaml"));
    expect(loaded.config.filters.map((f) => f.name)).toEqual(["a", "b"]);
    expect([...loaded.modules.keys()]).toEqual(["a", "b"]);
    const a = loaded.modules.get("a");
    expect(a?.sha256).toBe(sha256Hex(FAKE));
    expect(a?.path).toBe("modules/a.wasm");
    expect(Buffer.from(a?.bytes ?? []).equals(FAKE)).toBe(true);
    expect(Object.isFrozen(loaded)).toBe(true);
    expect(Object.isFrozen(loaded.config)).toBe(true);
    expect("set" in loaded.modules).toBe(false);
    expect(loaded.warnings).toEqual([
      'wasmxds.yaml: filters[0]: filter "a" is not used by any listener (it is still served over ECDS when discovery is ecds)',
      'wasmxds.yaml: filters[1]: filter "b" is not used by any listener (it is still served over ECDS when discovery is ecds)',
    ]);
  });

  it("accepts wasmxds.yml and reports errors against that name", async () => {
    const dir = await folder({ "wasmxds.yml": "filters: 1\n" });
    expect(await loadIssues(dir)).toEqual(["wasmxds.yml: filters: expected a list, got 1"]);
  });

  it("reports missing files, symlinks out of the folder and sha256 pins together", async () => {
    const outside = await folder({ "evil.wasm": FAKE });
    const dir = await folder({
      "wasmxds.yaml": YAML(
        [
          "  - { name: a, kind: http, module: modules/missing.wasm }",
          "  - { name: b, kind: http, module: modules/link.wasm }",
          `  - { name: c, kind: http, module: modules/ok.wasm, sha256: "${"0".repeat(64)}" }`,
          "  - { name: d, kind: http, module: modules }",
        ].join("\n"),
      ),
      "modules/ok.wasm": FAKE,
    });
    await symlink(join(outside, "evil.wasm"), join(dir, "modules/link.wasm"));
    const found = await loadIssues(dir);
    expect(found, found.join("\n")).toHaveLength(4);
    expect(found[0]).toBe("wasmxds.yaml: filters[0].module: modules/missing.wasm: no such file in the config folder");
    expect(found[1]).toMatch(/^wasmxds\.yaml: filters\[1\]\.module: modules\/link\.wasm: resolves to .*evil\.wasm, outside the config folder$/);
    expect(found[2]).toBe(`wasmxds.yaml: filters[2].sha256: expected the sha256 of modules/ok.wasm, which is ${sha256Hex(FAKE)}`);
    expect(found[3]).toBe("wasmxds.yaml: filters[3].module: modules: expected a regular file, found a directory");
  });

  it("fails clearly when the folder or the file is missing", async () => {
    const dir = await folder({ "other.yaml": "" });
    await expect(loadConfig(dir)).rejects.toMatchObject({
      code: "CONFIG_UNREADABLE",
      issues: [`${dir}: no wasmxds.yaml or wasmxds.yml in the config folder`],
    });
    await expect(loadConfig(join(dir, "nope"))).rejects.toMatchObject({ code: "CONFIG_UNREADABLE" });
    const both = await folder({ "wasmxds.yaml": "", "wasmxds.yml": "" });
    await expect(loadConfig(both)).rejects.toThrow("both wasmxds.yaml and wasmxds.yml exist; keep one");
  });

  it("loads the bundled example", async () => {
    const loaded = await loadConfig(resolve(import.meta.dirname, "../../config"));
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.filters.map((f) => [f.name, f.kind, f.rootId, f.code])).toEqual([
      ["add-header", "http", "add_header", "inline"],
      ["conn-guard", "network", "conn_guard", "remote"],
    ]);
    expect(loaded.config.filters[0]?.configuration).toBe('{"header":"x-wasmxds","value":"hello"}');
    expect(loaded.config.listeners.map((l) => [l.name, l.kind, `${l.address.host}:${l.address.port}`])).toEqual([
      ["ingress", "http", "127.0.0.1:10000"],
      ["tcp-in", "tcp", "127.0.0.1:10001"],
    ]);
    for (const name of ["add-header", "conn-guard"]) {
      const module = loaded.modules.get(name);
      expect(module?.sha256).toBe(sha256Hex(module?.bytes ?? new Uint8Array()));
    }
  });
});
