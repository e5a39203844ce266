/**
 * A filter version: the module plus the settings it runs with. Either can
 * make Envoy reject or crash a filter (a module that dislikes a new
 * configuration), so quarantine, known-good and rollback work on whole
 * versions, and a rollback restores the module *and* the settings it was
 * good with.
 */
import { createHash } from "node:crypto";
import type { FilterConfig } from "../config/model";

/** The settings that change how Envoy runs the module (not health or pre-flight policy). */
export type FilterSettings = Pick<
  FilterConfig,
  "kind" | "rootId" | "vmId" | "configuration" | "vmConfiguration" | "failurePolicy" | "reloadBackoff" | "code" | "discovery"
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
  };
}

/** `<sha256>:<16 hex of the settings>`: equal for equal module and settings. */
export function versionKey(sha256: string, settings: FilterSettings): string {
  const canonical = JSON.stringify(Object.keys(settings).sort().map((k) => [k, settings[k as keyof FilterSettings]]));
  return `${sha256}:${createHash("sha256").update(canonical).digest("hex").slice(0, 16)}`;
}

/** The module sha256 part of a version key. */
export function shaOfKey(key: string): string {
  return key.slice(0, key.indexOf(":") >>> 0 || key.length);
}
