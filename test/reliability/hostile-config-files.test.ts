/**
 * Hostile files in the config folder: a huge wasmxds.yaml, binary garbage,
 * a wasmxds.yaml or module that is a directory, a symlink loop or a fifo.
 * Each is refused with an error naming the file; none hangs, none replaces
 * what is served, and the server still starts again with the good config.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_CONFIG_BYTES, loadConfig } from "../../src/config/load";
import { ConfigError } from "../../src/errors";
import { EXAMPLE_CONFIG } from "../helpers/wasm-bytes";
import { startTestApp } from "../helpers/app";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function exampleFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "wasmxds-hostile-"));
  dirs.push(dir);
  cpSync(EXAMPLE_CONFIG, dir, { recursive: true });
  return dir;
}

const yamlPath = (dir: string) => join(dir, "wasmxds.yaml");
const modulePath = (dir: string) => join(dir, "modules/add_header.wasm");

async function loadError(dir: string): Promise<string> {
  try {
    await loadConfig(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.join("\n");
  }
  throw new Error("expected a ConfigError");
}

/** Each entry damages a copy of the example folder. */
const HOSTILE: ReadonlyArray<readonly [string, (dir: string) => void, RegExp]> = [
  ["a wasmxds.yaml over the size limit", (d) => truncateSync(yamlPath(d), MAX_CONFIG_BYTES + 1), /^wasmxds\.yaml: expected at most 4194304 bytes, the file has 4194305$/],
  [
    "binary garbage as wasmxds.yaml",
    (d) => writeFileSync(yamlPath(d), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))),
    /^wasmxds\.yaml:1: expected YAML text, found binary data \(a NUL byte at offset 0\)$/,
  ],
  ["bytes that are not UTF-8", (d) => writeFileSync(yamlPath(d), Buffer.from([0x66, 0x69, 0xff, 0xfe, 0x3a, 0x0a])), /^wasmxds\.yaml: expected UTF-8 text/],
  [
    "wasmxds.yaml as a directory",
    (d) => {
      rmSync(yamlPath(d));
      mkdirSync(yamlPath(d));
    },
    /^wasmxds\.yaml: expected a regular file, found a directory$/,
  ],
  [
    "wasmxds.yaml as a symlink loop",
    (d) => {
      rmSync(yamlPath(d));
      symlinkSync("wasmxds.yaml", yamlPath(d));
    },
    /^wasmxds\.yaml: cannot be read: a symlink loop/,
  ],
  [
    "wasmxds.yaml as a fifo",
    (d) => {
      rmSync(yamlPath(d));
      execFileSync("mkfifo", [yamlPath(d)]);
    },
    /^wasmxds\.yaml: expected a regular file, found a fifo/,
  ],
  [
    "a module that is a directory",
    (d) => {
      rmSync(modulePath(d));
      mkdirSync(modulePath(d));
    },
    /^wasmxds\.yaml: filters\[0\]\.module: modules\/add_header\.wasm: expected a regular file, found a directory$/,
  ],
  [
    "a module that is a symlink loop",
    (d) => {
      rmSync(modulePath(d));
      symlinkSync("add_header.wasm", modulePath(d));
    },
    /^wasmxds\.yaml: filters\[0\]\.module: modules\/add_header\.wasm: a symlink loop/,
  ],
  [
    "a module that is a fifo",
    (d) => {
      rmSync(modulePath(d));
      execFileSync("mkfifo", [modulePath(d)]);
    },
    /^wasmxds\.yaml: filters\[0\]\.module: modules\/add_header\.wasm: expected a regular file, found a fifo/,
  ],
  [
    "a module of binary garbage",
    (d) => writeFileSync(modulePath(d), Buffer.from("MZ\x90\x00 this is not wasm")),
    /^wasmxds\.yaml: filters\[0\]\.module: modules\/add_header\.wasm: expected a WebAssembly module \(starting with \\0asm\), found other data$/,
  ],
  [
    "an empty module",
    (d) => writeFileSync(modulePath(d), ""),
    /^wasmxds\.yaml: filters\[0\]\.module: modules\/add_header\.wasm: expected a WebAssembly module .*found an empty file$/,
  ],
];

describe("hostile files in the config folder", () => {
  it.each(HOSTILE)("refuses %s, naming the file", async (_name, damage, expected) => {
    const dir = exampleFolder();
    damage(dir);
    const t0 = performance.now();
    expect(await loadError(dir)).toMatch(expected);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it("never replaces what is served, and the server starts again with the good config", async () => {
    const dir = exampleFolder();
    const goodYaml = readFileSync(yamlPath(dir));
    const goodModule = readFileSync(modulePath(dir));
    const restore = () => {
      rmSync(yamlPath(dir), { recursive: true, force: true });
      rmSync(modulePath(dir), { recursive: true, force: true });
      writeFileSync(yamlPath(dir), goodYaml);
      writeFileSync(modulePath(dir), goodModule);
    };
    let app = await startTestApp(dir, { checkModule: async () => ({ ok: true }) });
    const version = app.publisher.published?.snapshot.version;
    const modules = app.publisher.published?.modules;
    try {
      for (const [name, damage, expected] of HOSTILE) {
        damage(dir);
        const result = await app.reload();
        expect(result.ok, name).toBe(false);
        if (!result.ok) expect(result.error.message, name).toMatch(new RegExp(expected.source, "m"));
        expect(app.publisher.published?.snapshot.version, name).toBe(version);
        restore();
      }
      expect(app.events.list({ types: ["rejected"] })).toHaveLength(HOSTILE.length);
    } finally {
      await app.close();
    }
    // A start on a hostile folder fails with the same clear error (no hang), and leaves the state usable.
    for (const [name, damage, expected] of HOSTILE) {
      damage(dir);
      await expect(startTestApp(dir, { checkModule: async () => ({ ok: true }) }), name).rejects.toThrow(new RegExp(expected.source, "m"));
      restore();
    }
    app = await startTestApp(dir, { checkModule: async () => ({ ok: true }) });
    expect(app.publisher.published?.modules).toEqual(modules);
    await app.close();
  });
});
