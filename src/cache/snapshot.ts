/**
 * An immutable, versioned set of resources per type: what one node group is
 * served. Resources are encoded once (makeResource) and shared between
 * snapshots when their bytes are unchanged; response bodies are built once
 * per (type version, subscription) and shared by every stream.
 */
import { createHash } from "node:crypto";
import { SnapshotError } from "../errors";
import { ADS_ORDER } from "../resources/type-urls";
import { type Resource, type ResourceInput, makeResource, stringField } from "./resource";
import { setVersion } from "./versions";

export type SnapshotInput = Readonly<Record<string, ReadonlyArray<ResourceInput | Resource>>>;

/** A DiscoveryResponse without its nonce: fields 1 (version_info), 2 (resources), 4 (type_url). */
export interface ResponseBody {
  readonly version: string;
  readonly resources: readonly Resource[];
  /** The names of `resources`, in order (shared, frozen). */
  readonly resourceNames: readonly string[];
  readonly body: Buffer;
}

const BODY_CACHE_LIMIT = 1024;

export class TypeSnapshot {
  readonly version: string;
  private readonly bodies = new Map<string, ResponseBody>();

  constructor(
    readonly typeUrl: string,
    readonly resources: ReadonlyMap<string, Resource>,
  ) {
    this.version = setVersion(resources.values());
  }

  /**
   * The response for a subscription: every resource (wildcard) or the named
   * ones that exist. Built once per distinct subscription, then shared.
   * `key` is the subscription's cache key ("*", or the names sorted and
   * joined with "\n") when the caller already holds it.
   */
  response(names: ReadonlySet<string> | "*", key = names === "*" ? "*" : [...names].sort().join("\n")): ResponseBody {
    let cached = this.bodies.get(key);
    if (cached) return cached;
    const selected =
      names === "*"
        ? [...this.resources.values()]
        : [...names]
            .sort()
            .map((n) => this.resources.get(n))
            .filter((r): r is Resource => r !== undefined);
    const version = names === "*" ? this.version : setVersion(selected);
    const body = Buffer.concat([
      stringField(1, version),
      ...selected.map((r) => r.responseEntry),
      stringField(4, this.typeUrl),
    ]);
    cached = Object.freeze({ version, resources: Object.freeze(selected), resourceNames: Object.freeze(selected.map((r) => r.name)), body });
    if (this.bodies.size >= BODY_CACHE_LIMIT) this.bodies.clear();
    this.bodies.set(key, cached);
    return cached;
  }
}

export class Snapshot {
  private readonly types: ReadonlyMap<string, TypeSnapshot>;
  /** Hash over every type's version (16 hex): changes when anything changes. */
  readonly version: string;

  private constructor(types: Map<string, TypeSnapshot>) {
    this.types = types;
    this.version = createHash("sha256")
      .update(
        [...types.values()]
          .map((t) => `${t.typeUrl}=${t.version}`)
          .sort()
          .join(","),
      )
      .digest("hex")
      .slice(0, 16);
    Object.freeze(this);
  }

  /**
   * Builds a snapshot. Resources whose bytes equal one in `previous` reuse
   * that Resource object (and its cached encodings). Throws SnapshotError on
   * duplicate or empty names.
   */
  static create(input: SnapshotInput, previous?: Snapshot): Snapshot {
    const types = new Map<string, TypeSnapshot>();
    for (const [typeUrl, list] of Object.entries(input)) {
      const byName = new Map<string, Resource>();
      for (const [i, item] of list.entries()) {
        if (!item.name) throw new SnapshotError("SNAPSHOT_INVALID", `${typeUrl}[${i}]: resource name is empty`);
        if (byName.has(item.name)) {
          throw new SnapshotError("SNAPSHOT_INVALID", `${typeUrl}: duplicate resource name "${item.name}"`);
        }
        let res = isResource(item) ? item : makeResource(typeUrl, item);
        const prev = previous?.resource(typeUrl, item.name);
        if (prev && prev.version === res.version) res = prev;
        byName.set(item.name, res);
      }
      types.set(typeUrl, new TypeSnapshot(typeUrl, byName));
    }
    return new Snapshot(types);
  }

  /** The snapshot for one type (an empty one when the type is absent). */
  type(typeUrl: string): TypeSnapshot {
    return this.types.get(typeUrl) ?? emptyType(typeUrl);
  }

  resource(typeUrl: string, name: string): Resource | undefined {
    return this.types.get(typeUrl)?.resources.get(name);
  }

  /** Type URLs present, in ADS push order first, then any others. */
  typeUrls(): string[] {
    const present = [...this.types.keys()];
    const ordered = ADS_ORDER.filter((t) => this.types.has(t)) as string[];
    return [...ordered, ...present.filter((t) => !ordered.includes(t)).sort()];
  }

  /** Every resource, for inspection. */
  *allResources(): Iterable<Resource> {
    for (const t of this.types.values()) yield* t.resources.values();
  }

  /** Type URLs whose version differs between two snapshots. */
  changedTypes(other: Snapshot | undefined): string[] {
    const urls = new Set([...this.typeUrls(), ...(other?.typeUrls() ?? [])]);
    return [...urls].filter((u) => this.type(u).version !== other?.type(u).version);
  }
}

function isResource(x: ResourceInput | Resource): x is Resource {
  return (x as Resource).responseEntry instanceof Buffer;
}

const empties = new Map<string, TypeSnapshot>();
function emptyType(typeUrl: string): TypeSnapshot {
  let t = empties.get(typeUrl);
  if (!t) {
    t = new TypeSnapshot(typeUrl, new Map());
    empties.set(typeUrl, t);
  }
  return t;
}
