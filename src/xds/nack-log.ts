/**
 * The NACKs received, oldest first, at most `limit` (the oldest dropped
 * first): what `nacks()` answers, in-process and across workers alike.
 */
import type { NackRecord } from "./events";

export class NackLog {
  private readonly records: NackRecord[] = [];

  constructor(private readonly limit: number) {}

  add(nack: NackRecord): void {
    this.records.push(nack);
    if (this.records.length > this.limit) this.records.shift();
  }

  list(filter?: { nodeId?: string; typeUrl?: string }): NackRecord[] {
    return this.records.filter((n) => (!filter?.nodeId || n.nodeId === filter.nodeId) && (!filter?.typeUrl || n.typeUrl === filter.typeUrl));
  }
}
