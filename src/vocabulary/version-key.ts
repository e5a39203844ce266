/**
 * Version references: how every layer names one version of a filter. A
 * version is a module plus the settings it runs with (config/filter-version.ts);
 * its key is `<module sha256>:<16 hex of the canonical settings>`, so equal
 * module and settings give equal keys on every replica and across restarts.
 * The state file, the health monitor, rollouts and the admin API all speak
 * these keys; Envoy's plugin names carry `<filter>@<sha8>` (pluginName).
 */
import { createHash } from "node:crypto";

/** `<sha256>:<16 hex of the settings>`: equal for equal module and settings. */
export function versionKey(sha256: string, settings: object): string {
  const entries = Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify(entries);
  return `${sha256}:${createHash("sha256").update(canonical).digest("hex").slice(0, 16)}`;
}

/** The module sha256 part of a version key. */
export function shaOfKey(key: string): string {
  return key.slice(0, key.indexOf(":") >>> 0 || key.length);
}
