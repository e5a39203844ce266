/**
 * What the health monitor remembers per connected node: which filter
 * versions each recent push of LDS or ECDS carried (so an ACK proves exactly
 * those), the tracked versions the node was sent (to forget it in each when
 * it goes), when it was last pushed to, and since when it runs each filter's
 * version (to date late failure reports).
 *
 * This runs for every push and every ACK of every node (issue 18: 12.5% of
 * a module swap's server CPU was here), so it is shaped for that: one map
 * entry per node holding everything; the pushes in a ring of mutable
 * records, matched by type and version without building a key string; the
 * (filter, version, attempt) a push carries interned once and shared by
 * every node it goes to, with its version id already made; the running
 * version updated in place.
 */
import { versionId } from "./remote-evidence";

/** A filter version a response carried, and the re-push attempt it was built for. Interned: never mutate. */
export interface Carried {
  readonly filter: string;
  readonly key: string;
  readonly attempt: number;
  /** versionId(filter, key): the tracked version's id. */
  readonly id: string;
  /** [this]: the list of a push that carried only this version (the common case), without an array per push. */
  readonly alone: readonly Carried[];
}

/** Responses remembered per node: only recent pushes can still be ACKed. */
export const PUSHES_PER_NODE = 16;
/** Interned carried versions kept; past this the table starts afresh (it is a cache: nothing relies on identity). */
const INTERNED_MAX = 4096;

interface Push {
  typeUrl: string;
  version: string;
  carried: readonly Carried[];
}

interface Running {
  key: string;
  at: number;
}

interface NodeState {
  lastPush: number;
  /** A ring of at most PUSHES_PER_NODE distinct (type, version); `next` is the oldest once full. */
  readonly pushes: Push[];
  next: number;
  /** Ids of the tracked versions the node was sent. */
  readonly sent: Set<string>;
  /** Per filter: the version it runs and since when (its ACK). */
  running: Map<string, Running> | undefined;
}

export class NodeBook {
  private readonly nodes = new Map<string, NodeState>();
  /** filter -> key -> by attempt. */
  private readonly interned = new Map<string, Map<string, Carried[]>>();
  private internedCount = 0;

  /** Nodes with state. */
  get size(): number {
    return this.nodes.size;
  }

  /** The one shared record of (filter, key, attempt). */
  carried(filter: string, key: string, attempt: number): Carried {
    let byKey = this.interned.get(filter);
    if (!byKey) {
      if (this.internedCount >= INTERNED_MAX) {
        this.interned.clear();
        this.internedCount = 0;
      }
      byKey = new Map();
      this.interned.set(filter, byKey);
    }
    let byAttempt = byKey.get(key);
    if (!byAttempt) {
      byAttempt = [];
      byKey.set(key, byAttempt);
    }
    let c = byAttempt[attempt];
    if (!c) {
      const alone: Carried[] = [];
      c = { filter, key, attempt, id: versionId(filter, key), alone };
      alone.push(c);
      byAttempt[attempt] = c;
      this.internedCount++;
    }
    return c;
  }

  /**
   * A push of `typeUrl` at `version` carrying `carried` went to the node.
   * Returns the node's set of sent version ids, for the caller to add the
   * tracked ones to.
   */
  pushed(nodeId: string, typeUrl: string, version: string, carried: readonly Carried[], at: number): Set<string> {
    const s = this.state(nodeId);
    s.lastPush = at;
    this.remember(s, typeUrl, version, carried);
    return s.sent;
  }

  private remember(s: NodeState, typeUrl: string, version: string, carried: readonly Carried[]): void {
    const pushes = s.pushes;
    // The same (type, version) again (a new stream, a re-push): its entry is replaced where it stands.
    for (let i = 0; i < pushes.length; i++) {
      const p = pushes[i] as Push;
      if (p.version === version && p.typeUrl === typeUrl) {
        p.carried = carried;
        return;
      }
    }
    if (pushes.length < PUSHES_PER_NODE) {
      pushes.push({ typeUrl, version, carried });
      return;
    }
    // Full: the oldest record is reused for this push.
    const oldest = pushes[s.next] as Push;
    oldest.typeUrl = typeUrl;
    oldest.version = version;
    oldest.carried = carried;
    s.next = (s.next + 1) % PUSHES_PER_NODE;
  }

  /** What the node's push of `typeUrl` at `version` carried; undefined if none is remembered. */
  carriedBy(nodeId: string, typeUrl: string, version: string): readonly Carried[] | undefined {
    const s = this.nodes.get(nodeId);
    if (!s) return undefined;
    const pushes = s.pushes;
    // Newest first: an ACK mostly answers the last push.
    const n = pushes.length;
    const newest = s.next + n - 1;
    for (let i = 0; i < n; i++) {
      const p = pushes[(newest - i) % n] as Push;
      if (p.version === version && p.typeUrl === typeUrl) return p.carried;
    }
    return undefined;
  }

  lastPush(nodeId: string): number | undefined {
    return this.nodes.get(nodeId)?.lastPush;
  }

  /** The node ACKed a version of the filter: it runs it from `at` on, unless it ran it already. */
  markRunning(nodeId: string, filter: string, key: string, at: number): void {
    const s = this.state(nodeId);
    s.running ??= new Map();
    const r = s.running.get(filter);
    if (!r) s.running.set(filter, { key, at });
    else if (r.key !== key) {
      r.key = key;
      r.at = at;
    }
  }

  /** The version of `filter` the node runs and since when, if it ACKed one. */
  runningSince(nodeId: string, filter: string): { readonly key: string; readonly at: number } | undefined {
    return this.nodes.get(nodeId)?.running?.get(filter);
  }

  /** A tracked version is forgotten: it leaves the sent sets of these nodes. */
  unsend(id: string, nodes: Iterable<string>): void {
    for (const n of nodes) this.nodes.get(n)?.sent.delete(id);
  }

  /** Forgets the node; returns the ids of the tracked versions it had been sent. */
  forget(nodeId: string): ReadonlySet<string> | undefined {
    const s = this.nodes.get(nodeId);
    this.nodes.delete(nodeId);
    return s?.sent;
  }

  private state(nodeId: string): NodeState {
    let s = this.nodes.get(nodeId);
    if (!s) {
      s = { lastPush: 0, pushes: [], next: 0, sent: new Set(), running: undefined };
      this.nodes.set(nodeId, s);
    }
    return s;
  }
}
