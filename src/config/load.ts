/**
 * The file-system half of loading: finds wasmxds.yaml in the config folder,
 * validates it (parse.ts), then reads every `module:` file, which must be a
 * regular file inside the folder even after symlinks are resolved, and hashes
 * it. All problems are reported together in one ConfigError.
 */
import { readFile, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { ConfigError, errorMessage } from "../errors";
import { DEFAULT_MAX_MODULE_BYTES } from "../wasm/remote-fetch";
import { sha256Hex } from "../wasm/sha256";
import { issueLine } from "./issue-path";
import type { WasmxdsConfig } from "./model";
import { parseConfig } from "./parse";
import { ReadonlyMapView } from "./readonly-map";
import { configWarnings } from "./warnings";

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
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info?.isFile()) found.push(name);
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

async function readModule(dir: string, path: string): Promise<LoadedModule | string> {
  let absolutePath: string;
  try {
    absolutePath = await realpath(join(dir, path));
  } catch {
    return `${path}: no such file in the config folder`;
  }
  const inside = relative(dir, absolutePath);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
    return `${path}: resolves to ${absolutePath}, outside the config folder`;
  }
  try {
    const info = await stat(absolutePath);
    if (!info.isFile()) return `${path}: expected a file`;
    if (info.size > DEFAULT_MAX_MODULE_BYTES) {
      return `${path}: expected at most ${DEFAULT_MAX_MODULE_BYTES} bytes, the file has ${info.size}`;
    }
    const bytes = await readFile(absolutePath);
    return Object.freeze({ path, absolutePath, sha256: sha256Hex(bytes), bytes });
  } catch (err) {
    return `${path}: cannot be read: ${errorMessage(err)}`;
  }
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
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError([`${fileName}: cannot be read: ${errorMessage(err)}`], { code: "CONFIG_UNREADABLE", cause: err });
  }
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
