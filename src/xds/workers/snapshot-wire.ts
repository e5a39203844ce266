/**
 * Snapshots across the process boundary, encoded once per worker: the main
 * process sends a group's snapshot as names and versions per type, plus the
 * bytes of only those resources the worker does not already hold in one of
 * the snapshots it was sent (the unchanged listeners of a module swap cost
 * nothing); the worker rebuilds the same snapshot from them. Both sides
 * decide "already held" by the same rule on the same sequence of messages
 * (the channel is ordered), so they agree without acknowledgements.
 *
 * The versions are the main process's (content hashes of the bytes), so a
 * push event from a worker names the version the main process published.
 */
import { type Resource, encodeAnyEntry } from "../../cache/resource";
import { Snapshot } from "../../cache/snapshot";
import type { ToWorker, WireResource, WireType } from "./protocol";

type SnapMessage = Extract<ToWorker, { t: "snap" }>;

/** The snapshots one side holds per group, and the lookup of a resource by name and version among them. */
export class HeldSnapshots {
  private readonly byGroup = new Map<string, Snapshot>();

  get(group: string): Snapshot | undefined {
    return this.byGroup.get(group);
  }

  set(group: string, snapshot: Snapshot): void {
    this.byGroup.set(group, snapshot);
  }

  delete(group: string): boolean {
    return this.byGroup.delete(group);
  }

  groups(): IterableIterator<string> {
    return this.byGroup.keys();
  }

  /** A held resource with this name and version, from any group (the group being replaced first). */
  find(typeUrl: string, name: string, version: string, first?: Snapshot): Resource | undefined {
    const r = first?.resource(typeUrl, name);
    if (r?.version === version) return r;
    for (const s of this.byGroup.values()) {
      if (s === first) continue;
      const held = s.resource(typeUrl, name);
      if (held?.version === version) return held;
    }
    return undefined;
  }
}

/** Main process: the message that gives a worker holding `held` the group's snapshot. */
export function encodeSnapshot(group: string, snapshot: Snapshot, held: HeldSnapshots): SnapMessage {
  const previous = held.get(group);
  const types: WireType[] = [];
  const fresh: WireResource[] = [];
  for (const typeUrl of snapshot.typeUrls()) {
    const entries: Array<readonly [string, string]> = [];
    for (const r of snapshot.type(typeUrl).resources.values()) {
      entries.push([r.name, r.version]);
      if (!held.find(typeUrl, r.name, r.version, previous)) fresh.push([typeUrl, r.name, r.version, r.bytes]);
    }
    types.push([typeUrl, entries]);
  }
  held.set(group, snapshot);
  return { t: "snap", group, types, fresh };
}

const NO_MESSAGE: Readonly<Record<string, unknown>> = Object.freeze({});

/** Worker: the snapshot a message describes, from its fresh bytes and what `held` holds; recorded in `held`. */
export function decodeSnapshot(message: SnapMessage, held: HeldSnapshots): Snapshot {
  const previous = held.get(message.group);
  const fresh = new Map<string, Resource>();
  for (const [typeUrl, name, version, raw] of message.fresh) {
    const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    // Streams read the encoding only; the plain message stays in the main process.
    fresh.set(`${typeUrl}\0${name}\0${version}`, Object.freeze({ typeUrl, name, version, bytes, responseEntry: encodeAnyEntry(2, typeUrl, bytes), message: NO_MESSAGE }));
  }
  const input: Record<string, Resource[]> = {};
  for (const [typeUrl, entries] of message.types) {
    input[typeUrl] = entries.map(([name, version]) => {
      const r = fresh.get(`${typeUrl}\0${name}\0${version}`) ?? held.find(typeUrl, name, version, previous);
      if (!r) throw new Error(`snapshot of group "${message.group}": resource ${typeUrl} "${name}" version ${version} was neither sent nor held`);
      return r;
    });
  }
  const snapshot = Snapshot.create(input);
  held.set(message.group, snapshot);
  return snapshot;
}
