/**
 * The per-resource difference incremental xDS sends: which resources of a
 * type the subscription selects, which of them the client does not hold at
 * their current version (sent), and which names the client holds that left
 * the snapshot or the subscription (removed_resources). Resource versions
 * are content hashes (cache/resource.ts), so a change to one filter makes
 * one resource differ, whatever else the snapshot holds. Names never sent
 * and never declared by the client are never reported removed.
 *
 * The version of the whole selection is the state-of-the-world version of
 * the same subscription (cache/versions.ts setVersion), so both protocols
 * name what a node runs with the same string: admin views, health and
 * rollout records compare across them.
 */
import type { Resource } from "../cache/resource";
import type { TypeSnapshot } from "../cache/snapshot";

export interface ResourceDiff {
  /** The selection's version (system_version_info). */
  readonly version: string;
  /** Resources to send, sorted by name. */
  readonly updated: readonly Resource[];
  /** Names held by the client and no longer selected, sorted. */
  readonly removed: readonly string[];
}

export function diffResources(
  type: TypeSnapshot,
  wildcard: boolean,
  names: ReadonlySet<string>,
  held: ReadonlyMap<string, string>,
): ResourceDiff {
  const selected: Resource[] = [];
  if (wildcard) {
    selected.push(...type.resources.values());
  } else {
    for (const n of names) {
      const r = type.resources.get(n);
      if (r) selected.push(r);
    }
  }
  const updated = selected.filter((r) => held.get(r.name) !== r.version).sort(byName);
  const removed: string[] = [];
  for (const name of held.keys()) {
    if (wildcard ? !type.resources.has(name) : !names.has(name) || !type.resources.has(name)) removed.push(name);
  }
  // The named selection's version from the snapshot's shared body cache: hashed once per distinct selection, not per stream.
  return { version: wildcard ? type.version : type.response(names).version, updated, removed: removed.sort() };
}

function byName(a: Resource, b: Resource): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
