/**
 * An immutable, versioned set of resources per type: what one node group is
 * served. Resources are encoded once (makeResource) and shared between
 * snapshots when their bytes are unchanged; response bodies are built once
 * per (type version, set of resources selected) and shared by every stream.
 *
 * The body cache is keyed by the resources a subscription selects, never by
 * the names a client asked for: a client subscribing to thousands of names
 * that do not exist selects nothing and shares the one empty body, and a
 * key is at most the positions of this type's own resources. It is an LRU
 * bounded by entries and bytes (BodyCacheLimits); a client that asked for
 * many distinct subsets grew it to gigabytes before (issue 11, item 1).
 */
import { createHash } from "node:crypto";
import { SnapshotError } from "../errors";
import { ADS_ORDER } from "../vocabulary/type-urls";
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

export interface BodyCacheLimits {
  /** Named-subset bodies kept per type snapshot (default 256). */
  readonly maxEntries: number;
  /** Bytes of those bodies kept per type snapshot (default 64 MiB; the newest body is kept even if larger). */
  readonly maxBytes: number;
}

export const DEFAULT_BODY_CACHE_LIMITS: BodyCacheLimits = Object.freeze({ maxEntries: 256, maxBytes: 64 * 1024 * 1024 });

export class TypeSnapshot {
  readonly version: string;
  /** The wildcard body, and the body of a subscription that selects nothing: one each, never evicted. */
  private all: ResponseBody | undefined;
  private none: ResponseBody | undefined;
  /** Resources sorted by name, and each name's position there (built on the first named subscription). */
  private sorted: readonly Resource[] | undefined;
  private position: ReadonlyMap<string, number> | undefined;
  /** LRU (Map order) of named-subset bodies, keyed by the positions selected. */
  private readonly bodies = new Map<string, ResponseBody>();
  private bodyBytes = 0;

  constructor(
    readonly typeUrl: string,
    readonly resources: ReadonlyMap<string, Resource>,
    private readonly limits: BodyCacheLimits = DEFAULT_BODY_CACHE_LIMITS,
  ) {
    this.version = setVersion(resources.values());
  }

  /**
   * The response for a subscription: every resource (wildcard) or the named
   * ones that exist, sorted by name. Built once per distinct selection, then
   * shared while it stays in the cache.
   */
  response(names: ReadonlySet<string> | "*"): ResponseBody {
    if (names === "*") {
      this.all ??= this.build([...this.resources.values()], this.version);
      return this.all;
    }
    const positions = this.select(names);
    if (positions.length === 0) {
      this.none ??= this.build([], setVersion([]));
      return this.none;
    }
    const key = positions.join(",");
    const cached = this.bodies.get(key);
    if (cached) {
      // Most recently used last; re-inserting only when not already last keeps the common hit cheap.
      if (this.bodies.size > 1) {
        this.bodies.delete(key);
        this.bodies.set(key, cached);
      }
      return cached;
    }
    const sorted = this.sorted as readonly Resource[];
    const selected = positions.map((i) => sorted[i] as Resource);
    const body = this.build(selected, setVersion(selected));
    this.bodies.set(key, body);
    this.bodyBytes += body.body.length;
    for (const [k, b] of this.bodies) {
      if (this.bodies.size <= this.limits.maxEntries && this.bodyBytes <= this.limits.maxBytes) break;
      if (b === body) break;
      this.bodies.delete(k);
      this.bodyBytes -= b.body.length;
    }
    return body;
  }

  /** Named-subset bodies held, and their bytes (for tests and metrics). */
  cacheSize(): { entries: number; bytes: number } {
    return { entries: this.bodies.size, bytes: this.bodyBytes };
  }

  /** Positions (in name order) of the subscribed resources that exist: O(min(names, resources)). */
  private select(names: ReadonlySet<string>): number[] {
    if (!this.sorted) {
      this.sorted = Object.freeze([...this.resources.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
      this.position = new Map(this.sorted.map((r, i) => [r.name, i]));
    }
    const out: number[] = [];
    if (names.size <= this.sorted.length) {
      const position = this.position as ReadonlyMap<string, number>;
      for (const n of names) {
        const i = position.get(n);
        if (i !== undefined) out.push(i);
      }
      if (out.length > 1) out.sort((a, b) => a - b);
    } else {
      for (const [i, r] of this.sorted.entries()) if (names.has(r.name)) out.push(i);
    }
    return out;
  }

  private build(selected: readonly Resource[], version: string): ResponseBody {
    const body = Buffer.concat([stringField(1, version), ...selected.map((r) => r.responseEntry), stringField(4, this.typeUrl)]);
    return Object.freeze({ version, resources: Object.freeze([...selected]), resourceNames: Object.freeze(selected.map((r) => r.name)), body });
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
