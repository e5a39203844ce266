/**
 * Which module a filter runs and how its code reaches Envoy: inline bytes or
 * a remote DataSource (docs/CONFIG.md, "Inline or remote code").
 *
 * Over ECDS, `auto` always means inline: remote code in an ECDS update that
 * reaches a listener which has already warmed is never fetched, and Envoy
 * leaves the filter out of the chain without a NACK (docs/ENVOY.md, "Remote
 * code over ECDS"). Inline code is bounded by `server.maxInlineBytes`; a
 * larger module is refused with the ways out.
 */
import { AUTO_INLINE_MAX_BYTES, type CodeDelivery, DEFAULT_MAX_INLINE_BYTES, type FilterConfig } from "../config/model";
import { ModuleError, SnapshotError } from "../errors";
import type { ModuleBytes } from "../vocabulary/module";


export type ResolvedCode =
  | { readonly delivery: "inline"; readonly sha256: string; readonly bytes: Uint8Array }
  | { readonly delivery: "remote"; readonly sha256: string }
  /** `hostPath`: Envoy reads the file on its own host (code.local.filename); sha256 names the version. */
  | { readonly delivery: "host"; readonly sha256: string; readonly path: string };

function delivery(filter: FilterConfig, size: number | undefined, maxInline: number): CodeDelivery {
  if (filter.code !== "auto") return filter.code;
  if (filter.discovery === "ecds") return "inline";
  return size !== undefined && size <= Math.min(AUTO_INLINE_MAX_BYTES, maxInline) ? "inline" : "remote";
}

function tooLarge(filter: FilterConfig, module: ModuleBytes, maxInline: number): ModuleError {
  const head = `filter ${JSON.stringify(filter.name)}: module ${module.sha256.slice(0, 8)} is ${module.bytes.length} bytes, over server.maxInlineBytes (${maxInline})`;
  const choices =
    filter.discovery === "ecds"
      ? "Choose one: raise server.maxInlineBytes; or set discovery: listener with code: remote (a warming listener waits for the fetch); " +
        "or set code: remote to keep ECDS (Envoy NACKs the first push while it fetches the module, and wasmxds pushes again once the fetch is done)"
      : "Choose one: raise server.maxInlineBytes; or set code: remote (or auto), and the listener waits while Envoy fetches the module";
  const why =
    filter.code === "auto" && filter.discovery === "ecds"
      ? "; code auto over ECDS sends modules inline, because Envoy never fetches remote code for an ECDS update on a listener that has already warmed"
      : "";
  return new ModuleError("MODULE_TOO_LARGE", `${head}${why}. ${choices}.`);
}

/**
 * `modules` holds every filter's module by filter name. The one exception is
 * a `url:` filter with `code: remote`, whose sha256 is in the config and
 * whose bytes Envoy fetches from the module server, not from here.
 */
export function resolveCode(filter: FilterConfig, modules: ReadonlyMap<string, ModuleBytes>, maxInline = DEFAULT_MAX_INLINE_BYTES): ResolvedCode {
  const fail = (why: string): never => {
    throw new SnapshotError("SNAPSHOT_INVALID", `filter ${JSON.stringify(filter.name)}: ${why}`);
  };
  const module = modules.get(filter.name);
  const declared = filter.module.sha256;
  if (module !== undefined && declared !== undefined && module.sha256 !== declared) {
    fail(`module has sha256 ${module.sha256}, but the config declares ${declared}`);
  }
  const sha256 = module?.sha256 ?? declared ?? fail("no module bytes were provided");
  // Checked before the inline limit: the bytes (a copy, if any) never travel to Envoy.
  if (filter.hostPath !== undefined) return { delivery: "host", sha256, path: filter.hostPath };
  const mode = delivery(filter, module?.bytes.length, maxInline);
  if (mode === "remote") return { delivery: "remote", sha256 };
  if (module === undefined) return fail("inline code needs the module bytes, which were not provided");
  if (module.bytes.length > maxInline) throw tooLarge(filter, module, maxInline);
  return { delivery: "inline", sha256, bytes: module.bytes };
}
