/**
 * Which module a filter runs and how its code reaches Envoy: inline bytes or
 * a remote DataSource (docs/CONFIG.md, "Inline or remote code").
 */
import { AUTO_INLINE_MAX_BYTES, type CodeDelivery, type FilterConfig } from "../config/model";
import { SnapshotError } from "../errors";

/** A module's identity and, when known, its bytes. */
export interface ModuleBytes {
  readonly sha256: string;
  readonly bytes: Uint8Array;
}

export type ResolvedCode =
  | { readonly delivery: "inline"; readonly sha256: string; readonly bytes: Uint8Array }
  | { readonly delivery: "remote"; readonly sha256: string };

function delivery(filter: FilterConfig, size: number | undefined): CodeDelivery {
  if (filter.code !== "auto") return filter.code;
  return size !== undefined && size <= AUTO_INLINE_MAX_BYTES ? "inline" : "remote";
}

/**
 * `modules` holds every filter's module by filter name. The one exception is
 * a `url:` filter with `code: remote`, whose sha256 is in the config and
 * whose bytes Envoy fetches from the module server, not from here.
 */
export function resolveCode(filter: FilterConfig, modules: ReadonlyMap<string, ModuleBytes>): ResolvedCode {
  const fail = (why: string): never => {
    throw new SnapshotError("SNAPSHOT_INVALID", `filter ${JSON.stringify(filter.name)}: ${why}`);
  };
  const module = modules.get(filter.name);
  const declared = filter.module.sha256;
  if (module !== undefined && declared !== undefined && module.sha256 !== declared) {
    fail(`module has sha256 ${module.sha256}, but the config declares ${declared}`);
  }
  const sha256 = module?.sha256 ?? declared ?? fail("no module bytes were provided");
  const mode = delivery(filter, module?.bytes.length);
  if (mode === "remote") return { delivery: "remote", sha256 };
  if (module === undefined) return fail("inline code needs the module bytes, which were not provided");
  return { delivery: "inline", sha256, bytes: module.bytes };
}
