/**
 * The consistency check run before a snapshot is published: every name a
 * listener, route, cluster or extension config refers to must exist in the
 * same snapshot, or Envoy would wait on it (warming) or fail requests.
 */
import { SnapshotError } from "../errors";
import { SHORT_NAMES, type TypeUrl } from "../vocabulary/type-urls";
import { referencesOf } from "./references";
import type { Snapshot } from "./snapshot";

export interface Inconsistency {
  readonly from: { typeUrl: string; name: string; path: string };
  readonly missing: { typeUrl: string; name: string };
}

export function findInconsistencies(snapshot: Snapshot): Inconsistency[] {
  const problems: Inconsistency[] = [];
  for (const res of snapshot.allResources()) {
    for (const ref of referencesOf(res)) {
      if (!snapshot.resource(ref.typeUrl, ref.name)) {
        problems.push({
          from: { typeUrl: res.typeUrl, name: res.name, path: ref.path },
          missing: { typeUrl: ref.typeUrl, name: ref.name },
        });
      }
    }
  }
  return problems;
}

/** Throws SnapshotError listing everything missing. */
export function assertConsistent(snapshot: Snapshot, context = "snapshot"): void {
  const problems = findInconsistencies(snapshot);
  if (problems.length === 0) return;
  const lines = problems.map(
    (p) =>
      `${short(p.from.typeUrl)} "${p.from.name}" ${p.from.path} refers to ${short(p.missing.typeUrl)} "${p.missing.name}", which is not in the snapshot`,
  );
  throw new SnapshotError("SNAPSHOT_INCONSISTENT", `${context} is inconsistent:\n  ${lines.join("\n  ")}`);
}

function short(typeUrl: string): string {
  return SHORT_NAMES[typeUrl as TypeUrl] ?? typeUrl;
}
