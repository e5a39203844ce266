/**
 * Open streams by node id, oldest first, so that "the node of the oldest
 * stream named X" is a lookup, not a scan of every stream: kept by the
 * in-process XdsServer and by the worker pool's mirror (workers/) alike.
 */
export class StreamsByNode {
  private readonly ids = new Map<string, number[]>();

  /** Adds a stream after the node's others (the caller's order is the age order). */
  add(nodeId: string, streamId: number): void {
    const ids = this.ids.get(nodeId);
    if (ids) ids.push(streamId);
    else this.ids.set(nodeId, [streamId]);
  }

  /** Adds a stream in id order (where ids grow with the streams' opening, as in one process). */
  addById(nodeId: string, streamId: number): void {
    this.add(nodeId, streamId);
    const ids = this.ids.get(nodeId) as number[];
    if (ids.length > 1) ids.sort((a, b) => a - b);
  }

  remove(nodeId: string, streamId: number): void {
    const ids = this.ids.get(nodeId);
    if (!ids) return;
    const i = ids.indexOf(streamId);
    if (i >= 0) ids.splice(i, 1);
    if (ids.length === 0) this.ids.delete(nodeId);
  }

  /** The oldest open stream of the node. */
  oldest(nodeId: string): number | undefined {
    return this.ids.get(nodeId)?.[0];
  }

  clear(): void {
    this.ids.clear();
  }
}
