/**
 * What a simulated node has of its Envoy host: the disk a `code.local.filename`
 * is read from, and the process environment `host_env_keys` are read from
 * (docs/SIMULATOR.md "The Envoy host"; docs/ENVOY.md "Modules on the Envoy
 * host" and "Environment variables"). `root` stands for the host's `/`: a
 * filename is looked up under it, so a test or `wasmxds sim --host-root DIR`
 * can play the folder teams mount into their proxies. Without `root` the
 * filename is read as given, as Envoy would on this machine.
 */
import { readFileSync, statSync } from "node:fs";
import { isAbsolute, join, normalize, relative } from "node:path";
import { DEFAULT_MAX_MODULE_BYTES } from "../../vocabulary/module";

export interface SimHost {
  /** The folder standing for the Envoy host's file system root. */
  readonly root?: string;
  /** The Envoy process environment host_env_keys read from (default: empty). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The file's bytes, or Envoy's reason it could not be read
 * (common/config/datasource.cc readFile, and fileReadToEnd in
 * common/filesystem/posix/filesystem_impl.cc: a path realpath cannot
 * resolve is `Invalid path: <path>`): the message becomes the NACK's
 * error_detail.
 */
export function readHostFile(host: SimHost | undefined, filename: string): { bytes: Uint8Array } | { error: string } {
  let path = filename;
  if (host?.root !== undefined) {
    // A filename that climbs out of the root would read the simulator's own disk.
    const inside = normalize(join(host.root, filename));
    const rel = relative(host.root, inside);
    if (rel.startsWith("..") || isAbsolute(rel)) return { error: `Invalid path: ${filename}` };
    path = inside;
  }
  try {
    const st = statSync(path);
    // A folder opens and reads as nothing (std::ifstream); empty code then fails the plugin, not the read.
    if (st.isDirectory()) return { bytes: new Uint8Array(0) };
    if (st.size > DEFAULT_MAX_MODULE_BYTES) return { error: `file ${filename} size is ${st.size} bytes; maximum is ${DEFAULT_MAX_MODULE_BYTES}` };
    return { bytes: readFileSync(path) };
  } catch {
    return { error: `Invalid path: ${filename}` };
  }
}
