/**
 * The file-system half of loading: finds wasmxds.yaml in the config folder,
 * validates it (parse.ts), then reads every `module:` file, which must be a
 * regular file inside the folder even after symlinks are resolved, and hashes
 * it. All problems are reported together in one ConfigError.
 */
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { ConfigError, errorMessage } from "../errors";
import { DEFAULT_MAX_MODULE_BYTES } from "../vocabulary/module";
import { sha256Hex } from "../vocabulary/sha256";
import { issueLine } from "./issue-path";
import type { WasmxdsConfig } from "./model";
import { parseConfig } from "./parse";
import { FileReadError, describeFsError, describeKind, readRegularFile } from "./read-file";
import { ReadonlyMapView } from "./readonly-map";
import { configWarnings } from "./warnings";

/**
 * Largest wasmxds.yaml read. A hand-written config is a few KiB; this leaves
 * room for large inline `configuration:` values while bounding the work a
 * runaway generator or a wrong file can cause (docs/RELIABILITY.md).
 */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** The first four bytes of every WebAssembly binary: `\0asm`. */
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d] as const;

/** The names looked for in the config folder, in this order. */
export const CONFIG_FILE_NAMES = ["wasmxds.yaml", "wasmxds.yml"] as const;

export interface LoadedModule {
  /** As written in `module:`, normalised (relative to the config folder). */
  readonly path: string;
  /** Absolute path of the file read (symlinks resolved). */
  readonly absolutePath: string;
  /** Lowercase hex sha256 of `bytes`, as Envoy spells it. */
  readonly sha256: string;
  /** Shared, not copied: do not modify. */
  readonly bytes: Uint8Array;
}

export interface LoadedConfig {
  /** The config folder, absolute, symlinks resolved. */
  readonly dir: string;
  /** The configuration file, absolute. */
  readonly file: string;
  readonly config: WasmxdsConfig;
  /** Module of each filter with `module:` (filters with `url:` are fetched by the module store). */
  readonly modules: ReadonlyMap<string, LoadedModule>;
  /** Problems that do not stop the configuration from being served. */
  readonly warnings: readonly string[];
}

async function findConfigFile(dir: string): Promise<string> {
  const found: string[] = [];
  for (const name of CONFIG_FILE_NAMES) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(join(dir, name));
    } catch (err) {
      if ((err as { code?: unknown }).code === "ENOENT") continue;
      throw new ConfigError([`${name}: cannot be read: ${describeFsError(err)}`], { code: "CONFIG_UNREADABLE", cause: err });
    }
    if (!info.isFile()) {
      throw new ConfigError([`${name}: expected a regular file, found ${describeKind(info)}`], { code: "CONFIG_UNREADABLE" });
    }
    found.push(name);
  }
  const [first, second] = found;
  if (first === undefined) {
    throw new ConfigError([`${dir}: no ${CONFIG_FILE_NAMES.join(" or ")} in the config folder`], { code: "CONFIG_UNREADABLE" });
  }
  if (second !== undefined) {
    throw new ConfigError([`${dir}: both ${first} and ${second} exist; keep one`]);
  }
  return first;
}

/** The config file as text: bounded in size, UTF-8, no NUL bytes (binary data is not a config). */
async function readConfigText(file: string, fileName: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, MAX_CONFIG_BYTES);
  } catch (err) {
    const why = err instanceof FileReadError ? err.message : `cannot be read: ${errorMessage(err)}`;
    throw new ConfigError([`${fileName}: ${why}`], { code: "CONFIG_UNREADABLE", cause: err });
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const line = bytes.subarray(0, nul).reduce((n, b) => (b === 10 ? n + 1 : n), 1);
    throw new ConfigError([`${fileName}:${line}: expected YAML text, found binary data (a NUL byte at offset ${nul})`]);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ConfigError([`${fileName}: expected UTF-8 text, found bytes that are not UTF-8`]);
  }
}

async function readModule(dir: string, path: string): Promise<LoadedModule | string> {
  let absolutePath: string;
  try {
    absolutePath = await realpath(join(dir, path));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return code === "ENOENT" ? `${path}: no such file in the config folder` : `${path}: ${describeFsError(err)}`;
  }
  const inside = relative(dir, absolutePath);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
    return `${path}: resolves to ${absolutePath}, outside the config folder`;
  }
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(absolutePath, DEFAULT_MAX_MODULE_BYTES);
  } catch (err) {
    return `${path}: ${err instanceof FileReadError ? err.message : `cannot be read: ${errorMessage(err)}`}`;
  }
  if (bytes.length < 4 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    return `${path}: expected a WebAssembly module (starting with \\0asm), found ${bytes.length === 0 ? "an empty file" : "other data"}`;
  }
  return Object.freeze({ path, absolutePath, sha256: sha256Hex(bytes), bytes });
}

/** Reads and validates `<dir>/wasmxds.yaml` and its module files. */
export async function loadConfig(dir: string): Promise<LoadedConfig> {
  let root: string;
  try {
    root = await realpath(resolve(dir));
    if (!(await stat(root)).isDirectory()) throw new Error("not a directory");
  } catch (err) {
    throw new ConfigError([`${dir}: config folder cannot be read: ${errorMessage(err)}`], {
      code: "CONFIG_UNREADABLE",
      cause: err,
    });
  }
  const fileName = await findConfigFile(root);
  const file = join(root, fileName);
  const text = await readConfigText(file, fileName);
  const config = parseConfig(text, fileName);

  const lines: string[] = [];
  const byPath = new Map<string, Promise<LoadedModule | string>>();
  const modules = new Map<string, LoadedModule>();
  for (const [index, filter] of config.filters.entries()) {
    const source = filter.module;
    if (source.type !== "file") continue;
    let pending = byPath.get(source.path);
    if (!pending) {
      pending = readModule(root, source.path);
      byPath.set(source.path, pending);
    }
    const result = await pending;
    if (typeof result === "string") {
      lines.push(issueLine(fileName, ["filters", index, "module"], result));
    } else if (source.sha256 !== undefined && source.sha256 !== result.sha256) {
      lines.push(
        issueLine(fileName, ["filters", index, "sha256"], `expected the sha256 of ${source.path}, which is ${result.sha256}`),
      );
    } else {
      modules.set(filter.name, result);
    }
  }
  if (lines.length > 0) throw new ConfigError(lines);

  return Object.freeze({
    dir: root,
    file,
    config,
    modules: new ReadonlyMapView(modules),
    warnings: Object.freeze(configWarnings(config, fileName)),
  });
}
