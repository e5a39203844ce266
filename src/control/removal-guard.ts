/**
 * The guard against a configuration that empties the fleet. A half-written
 * wasmxds.yaml (an editor's truncate-then-write caught midway, a save that
 * kept only `filters:`) is valid YAML and a valid config, and publishing it
 * pulled every listener and cluster from every Envoy. So a new version that
 * removes every served listener, or every served cluster, or more than half
 * of the served listeners and clusters together when at least
 * MIN_SERVED_FOR_SHARE were served, is refused unless confirmed:
 * `server.allowEmpty: true` in wasmxds.yaml, or `--allow-empty`
 * (docs/RELIABILITY.md, "Configuration files and the watcher").
 *
 * Small dev configs stay easy to edit: with fewer than 4 listeners and
 * clusters, renaming or replacing them is not refused, only emptying a kind.
 */
import type { WasmxdsConfig } from "../config/model";
import { ConfigError } from "../errors";

/** The share rule applies from this many served listeners and clusters together. */
export const MIN_SERVED_FOR_SHARE = 4;
/** More than this share of the served listeners and clusters removed at once is refused. */
export const MAX_REMOVED_SHARE = 0.5;

const LIST_MAX = 8;

function list(names: readonly string[]): string {
  const shown = names.slice(0, LIST_MAX).join(", ");
  return names.length > LIST_MAX ? `${shown} and ${names.length - LIST_MAX} more` : shown;
}

function removed(before: readonly { name: string }[], after: readonly { name: string }[]): string[] {
  const kept = new Set(after.map((x) => x.name));
  return before.map((x) => x.name).filter((n) => !kept.has(n));
}

/**
 * Throws a ConfigError (code CONFIG_REMOVAL_UNCONFIRMED) when `next` would
 * remove too much of what `served` serves and nothing confirms it.
 */
export function checkRemovals(
  served: WasmxdsConfig | undefined,
  next: WasmxdsConfig,
  options: { readonly fileName: string; readonly allowEmptyFlag?: boolean },
): void {
  if (!served || next.server.allowEmpty === true || options.allowEmptyFlag === true) return;
  const listeners = removed(served.listeners, next.listeners);
  const clusters = removed(served.clusters, next.clusters);
  const total = served.listeners.length + served.clusters.length;
  const count = listeners.length + clusters.length;
  let why: string | undefined;
  if (served.listeners.length > 0 && next.listeners.length === 0 && served.clusters.length > 0 && next.clusters.length === 0) {
    why = "it removes every listener and every cluster";
  } else if (served.listeners.length > 0 && next.listeners.length === 0) {
    why = "it removes every listener";
  } else if (served.clusters.length > 0 && next.clusters.length === 0) {
    why = "it removes every cluster";
  } else if (total >= MIN_SERVED_FOR_SHARE && count > total * MAX_REMOVED_SHARE) {
    why = `it removes ${count} of the ${total} listeners and clusters served (more than half)`;
  }
  if (!why) return;
  const what = [
    listeners.length > 0 && `listeners ${list(listeners)}`,
    clusters.length > 0 && `clusters ${list(clusters)}`,
  ].filter(Boolean);
  throw new ConfigError(
    [
      `${options.fileName}: refused because ${why} (would remove ${what.join(" and ")}); a half-written save looks like this. ` +
        `If it is intended, set server.allowEmpty: true in ${options.fileName} (allowEmpty: true under server:) or start with --allow-empty`,
    ],
    { code: "CONFIG_REMOVAL_UNCONFIRMED" },
  );
}
