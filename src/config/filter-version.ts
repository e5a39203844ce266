/**
 * A filter version: the module plus the settings it runs with. Either can
 * make Envoy reject or crash a filter (a module that dislikes a new
 * configuration), so quarantine, known-good and rollback work on whole
 * versions, and a rollback restores the module *and* the settings it was
 * good with.
 */
import type { ModuleBytes } from "../vocabulary/module";
import type { FilterConfig } from "./model";

/** The settings that change how Envoy runs the module (not health or pre-flight policy). */
export type FilterSettings = Pick<
  FilterConfig,
  | "kind"
  | "rootId"
  | "vmId"
  | "configuration"
  | "vmConfiguration"
  | "failurePolicy"
  | "reloadBackoff"
  | "code"
  | "discovery"
  // The VmConfig fields of issue 21: a rollback restores the runtime, environment and code source it was good with.
  | "runtime"
  | "allowPrecompiled"
  | "env"
  | "hostPath"
>;

export function settingsOf(f: FilterConfig): FilterSettings {
  return {
    kind: f.kind,
    rootId: f.rootId,
    ...(f.vmId !== undefined && { vmId: f.vmId }),
    ...(f.configuration !== undefined && { configuration: f.configuration }),
    ...(f.vmConfiguration !== undefined && { vmConfiguration: f.vmConfiguration }),
    failurePolicy: f.failurePolicy,
    ...(f.reloadBackoff !== undefined && { reloadBackoff: f.reloadBackoff }),
    code: f.code,
    discovery: f.discovery,
    ...(f.runtime !== undefined && { runtime: f.runtime }),
    ...(f.allowPrecompiled !== undefined && { allowPrecompiled: f.allowPrecompiled }),
    ...(f.env !== undefined && { env: f.env }),
    ...(f.hostPath !== undefined && { hostPath: f.hostPath }),
  };
}

/** Keys of FilterSettings that may be absent: a version without one must not inherit another's. */
const OPTIONAL_SETTINGS = ["vmId", "configuration", "vmConfiguration", "reloadBackoff", "runtime", "allowPrecompiled", "env", "hostPath"] as const;

/**
 * `filter` running with `settings` instead of its own (a rollback to a
 * known-good version). Settings the known-good version did not have are
 * removed, not kept from the newer filter: spreading `settings` over
 * `filter` left a newer `configuration` in place when the good version had
 * none, and the good module was then run (and pre-flighted) with the
 * settings that broke it.
 */
export function withSettings(filter: FilterConfig, settings: FilterSettings): FilterConfig {
  const out: Record<string, unknown> = { ...filter };
  for (const k of OPTIONAL_SETTINGS) delete out[k];
  return { ...(out as unknown as FilterConfig), ...settings };
}

/**
 * `filter` serving another version (a rollback, a rollout's stable side):
 * that version's settings, and the module source pinned to that version's
 * sha256. The folder's pin names the newer version; left in place, the
 * snapshot builder refused the older module against it ("module has sha256
 * X, but the config declares Y") and a crashing url: or hostPath filter was
 * never rolled back (test/health/rollback-url.test.ts).
 */
export function asVersion(filter: FilterConfig, settings: FilterSettings, sha256: string): FilterConfig {
  const f = withSettings(filter, settings);
  return { ...f, module: { ...f.module, sha256 } };
}

const HOST_ONLY = new Uint8Array(0);

/**
 * The module bytes a version needs from the store: the stored bytes, or,
 * for a module that lives only on the Envoy hosts (`hostPath` without a
 * copy in the config folder), none at all (an empty array), since Envoy
 * reads the file itself. So such a version can be rolled back to, and be a
 * rollout's stable side, like any other.
 */
export function versionBytes(settings: Pick<FilterSettings, "hostPath">, stored: Uint8Array | undefined): Uint8Array | undefined {
  return stored ?? (settings.hostPath !== undefined ? HOST_ONLY : undefined);
}

/** A filter version ready to serve: the (possibly older) settings, the module, and its key (vocabulary/version-key.ts). */
export interface ServedFilter {
  readonly filter: FilterConfig;
  readonly module: ModuleBytes;
  /** versionKey(module sha256, settings). */
  readonly key: string;
}
