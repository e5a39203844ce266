/**
 * Version strings. A resource's version is a hash of its bytes; a set of
 * resources (a type in a snapshot, or the subset one stream subscribes to)
 * has the hash of its (name, version) pairs. Equal content gives equal
 * versions on every control-plane replica and across restarts, so a
 * reconnecting Envoy that already holds a version is not sent it again.
 */
import { createHash } from "node:crypto";
import type { Resource } from "./resource";

export function setVersion(resources: Iterable<Resource>): string {
  const pairs = [...resources].map((r) => `${r.name}\0${r.version}`).sort();
  const h = createHash("sha256");
  for (const p of pairs) h.update(p).update("\n");
  return h.digest("hex").slice(0, 16);
}
