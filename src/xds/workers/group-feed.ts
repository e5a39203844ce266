/**
 * Which snapshots each worker needs, and sending them: a worker holds the
 * snapshot of every group one of its streams is in, sent once per group
 * and version (snapshot-wire.ts sends only resources it lacks). A stream is
 * placed in a group after the group's snapshot went out, and a group no
 * stream of a worker is in any more is dropped there after the moves, so a
 * worker never serves from a group it was not sent.
 */
import type { Snapshot } from "../../cache/snapshot";
import type { SnapshotCache } from "../../cache/snapshot-cache";
import type { ToWorker } from "./protocol";
import { encodeSnapshot, HeldSnapshots } from "./snapshot-wire";
import type { Placement } from "./stream-mirror";

interface WorkerGroups {
  readonly held: HeldSnapshots;
  /** Streams per group. */
  readonly uses: Map<string, number>;
  assigns: Array<readonly [number, string]>;
  drops: Set<string>;
}

export class GroupFeed implements Placement {
  private readonly workers = new Map<number, WorkerGroups>();
  /** The cache watch of each group some worker uses. */
  private readonly watching = new Map<string, () => void>();

  constructor(
    private readonly cache: SnapshotCache,
    private readonly send: (worker: number, message: ToWorker) => void,
  ) {}

  place(worker: number, streamId: number, group: string, previous: string | undefined): void {
    const w = this.of(worker);
    this.use(worker, w, group);
    w.assigns.push([streamId, group]);
    if (previous !== undefined) this.leave(worker, previous);
  }

  leave(worker: number, group: string): void {
    const w = this.workers.get(worker);
    if (!w) return;
    const n = (w.uses.get(group) ?? 0) - 1;
    if (n > 0) {
      w.uses.set(group, n);
      return;
    }
    w.uses.delete(group);
    w.drops.add(group);
  }

  flush(): void {
    for (const [worker, w] of this.workers) {
      if (w.assigns.length > 0) {
        const items = w.assigns;
        w.assigns = [];
        this.send(worker, { t: "assign", items });
      }
      for (const group of w.drops) {
        if (w.uses.has(group)) continue;
        w.held.delete(group);
        this.send(worker, { t: "drop", group });
      }
      w.drops.clear();
    }
    for (const [group, unwatch] of this.watching) {
      if ([...this.workers.values()].some((w) => w.uses.has(group))) continue;
      unwatch();
      this.watching.delete(group);
    }
  }

  /** A worker was replaced: it holds nothing. */
  reset(worker: number): void {
    this.workers.delete(worker);
  }

  private use(worker: number, w: WorkerGroups, group: string): void {
    const n = w.uses.get(group) ?? 0;
    w.uses.set(group, n + 1);
    w.drops.delete(group);
    if (!this.watching.has(group)) this.watching.set(group, this.cache.watch(group, (s) => this.feed(group, s)));
    if (n > 0) return;
    const snapshot = this.cache.getSnapshot(group);
    if (snapshot) this.sendSnapshot(worker, w, group, snapshot);
  }

  /** A group's served snapshot changed: every worker using it gets the new one. */
  private feed(group: string, snapshot: Snapshot): void {
    for (const [worker, w] of this.workers) if (w.uses.has(group)) this.sendSnapshot(worker, w, group, snapshot);
  }

  private sendSnapshot(worker: number, w: WorkerGroups, group: string, snapshot: Snapshot): void {
    if (w.held.get(group) === snapshot) return;
    this.send(worker, encodeSnapshot(group, snapshot, w.held));
  }

  private of(worker: number): WorkerGroups {
    let w = this.workers.get(worker);
    if (!w) {
      w = { held: new HeldSnapshots(), uses: new Map(), assigns: [], drops: new Set() };
      this.workers.set(worker, w);
    }
    return w;
  }
}
