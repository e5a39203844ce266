/**
 * The snapshot cache: one snapshot per node group, plus an optional default
 * snapshot served to groups that have none of their own. Publishing checks
 * consistency first and refuses an inconsistent snapshot, leaving the
 * previous one in place. Watchers (the xDS streams) are notified
 * asynchronously and coalesced, so a burst of publishes costs one push and
 * nothing re-enters the publisher.
 */
import type { Logger } from "../logger";
import { silentLogger } from "../logger";
import { assertConsistent } from "./consistency";
import { type NodeGroupFn, byNodeId } from "./node-group";
import type { Snapshot } from "./snapshot";

export type SnapshotWatcher = (snapshot: Snapshot) => void;

export interface SnapshotCacheOptions {
  readonly groupOf?: NodeGroupFn;
  readonly logger?: Logger;
  /** Skip the consistency check (tests of inconsistent input only). */
  readonly allowInconsistent?: boolean;
  /**
   * Builds the snapshot of a group that has none yet (e.g. a new rollout
   * group), publishing it with setSnapshot; undefined falls back to the
   * default snapshot.
   */
  readonly provider?: (group: string) => Snapshot | undefined;
}

export class SnapshotCache {
  readonly groupOf: NodeGroupFn;
  private readonly logger: Logger;
  private readonly allowInconsistent: boolean;
  private readonly provider: ((group: string) => Snapshot | undefined) | undefined;
  private readonly snapshots = new Map<string, Snapshot>();
  private defaultSnapshot: Snapshot | undefined;
  private readonly watchers = new Map<string, Set<SnapshotWatcher>>();
  private readonly dirty = new Set<string>();
  private flushScheduled = false;

  constructor(options: SnapshotCacheOptions = {}) {
    this.groupOf = options.groupOf ?? byNodeId;
    this.logger = options.logger ?? silentLogger;
    this.allowInconsistent = options.allowInconsistent ?? false;
    this.provider = options.provider;
  }

  /** Publishes a group's snapshot. Throws SnapshotError (and keeps the old one) if it is inconsistent. */
  setSnapshot(group: string, snapshot: Snapshot): void {
    if (!this.allowInconsistent) assertConsistent(snapshot, `snapshot for group "${group}"`);
    if (this.snapshots.get(group) === snapshot) return;
    this.snapshots.set(group, snapshot);
    this.logger.debug("snapshot published", { group, version: snapshot.version });
    this.markDirty(group);
  }

  /** Publishes the snapshot served to every group without its own. */
  setDefaultSnapshot(snapshot: Snapshot): void {
    if (!this.allowInconsistent) assertConsistent(snapshot, "default snapshot");
    if (this.defaultSnapshot === snapshot) return;
    this.defaultSnapshot = snapshot;
    this.logger.debug("default snapshot published", { version: snapshot.version });
    for (const group of this.watchers.keys()) if (!this.snapshots.has(group)) this.markDirty(group);
  }

  clearSnapshot(group: string): void {
    if (this.snapshots.delete(group)) this.markDirty(group);
  }

  /** The snapshot a group is served: its own (built by the provider if needed), else the default. */
  getSnapshot(group: string): Snapshot | undefined {
    return this.snapshots.get(group) ?? this.provider?.(group) ?? this.defaultSnapshot;
  }

  getDefaultSnapshot(): Snapshot | undefined {
    return this.defaultSnapshot;
  }

  /** Groups with a snapshot of their own. */
  groups(): string[] {
    return [...this.snapshots.keys()];
  }

  /** Calls `watcher` (asynchronously) whenever the group's served snapshot changes. */
  watch(group: string, watcher: SnapshotWatcher): () => void {
    let set = this.watchers.get(group);
    if (!set) {
      set = new Set();
      this.watchers.set(group, set);
    }
    set.add(watcher);
    return () => {
      const s = this.watchers.get(group);
      if (!s) return;
      s.delete(watcher);
      if (s.size === 0) this.watchers.delete(group);
    };
  }

  private markDirty(group: string): void {
    if (!this.watchers.has(group)) return;
    this.dirty.add(group);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  /**
   * Notifies the watchers of dirty groups, FLUSH_BATCH at a time: the first
   * batch in the microtask after the publish, the rest each on a later turn
   * of the event loop. Each notified stream writes its response; with 10,000
   * streams in one synchronous loop, every response (and gRPC's framed copy
   * of it) was held in memory at once and nothing reached a socket until the
   * loop ended. In batches, the first Envoys receive (and ACK, on the other
   * cores) while the rest are still being written, and the buffers of one
   * batch are freed and reused by the next (docs/PERFORMANCE.md).
   */
  private flush(): void {
    let notified = 0;
    for (const group of this.dirty) {
      this.dirty.delete(group);
      const snapshot = this.getSnapshot(group);
      if (!snapshot) continue;
      for (const w of [...(this.watchers.get(group) ?? [])]) {
        notified++;
        try {
          w(snapshot);
        } catch (err) {
          this.logger.error("snapshot watcher failed", { group, err: String(err) });
        }
      }
      if (notified >= FLUSH_BATCH) break;
    }
    if (this.dirty.size === 0) {
      this.flushScheduled = false;
      return;
    }
    setImmediate(() => this.flush());
  }
}

/** Streams notified per turn of the event loop (see flush). */
const FLUSH_BATCH = 256;
