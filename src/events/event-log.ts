/**
 * The event log: what the control plane did and saw (publishes, rejected
 * versions, NACKs, connects, rollbacks), newest last, bounded in memory.
 * The admin API serves it at GET /v1/events.
 *
 * Bounded per type, not only in total: when the log is full, the oldest
 * event of the type holding the most entries goes. A storm of one kind (a
 * client NACKing in a loop, a node flapping) then evicts only its own kind,
 * and the publishes and rollbacks an operator needs to read stay
 * (docs/RELIABILITY.md, "Admin API and event log").
 */
import { Emitter } from "../emitter";
import { type Clock, realClock } from "../time/clock";

export interface LoggedEvent {
  readonly seq: number;
  readonly at: string;
  readonly type: string;
  /** Who or what caused it (e.g. "watcher", "node envoy-1", "operator"). */
  readonly cause: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export const DEFAULT_EVENT_LOG_CAPACITY = 5000;

export interface EventListOptions {
  /** Only events with a larger seq (all when 0). */
  readonly afterSeq?: number;
  /** Only these types (all when empty). */
  readonly types?: readonly string[];
  /** At most this many, the newest. */
  readonly limit?: number;
}

/** One type's events in seq order: an array with a moving head, compacted now and then. */
class TypeQueue {
  private items: LoggedEvent[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(e: LoggedEvent): void {
    this.items.push(e);
  }

  shift(): void {
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  at(i: number): LoggedEvent {
    return this.items[this.head + i]!;
  }

  /** Index of the first event with seq > after (binary search: seqs only grow). */
  firstAfter(after: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).seq > after) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

export class EventLog extends Emitter<LoggedEvent> {
  private readonly byType = new Map<string, TypeQueue>();
  private total = 0;
  private seq = 0;

  constructor(
    private readonly capacity = DEFAULT_EVENT_LOG_CAPACITY,
    private readonly clock: Clock = realClock,
  ) {
    super();
  }

  /** Events held now. */
  get size(): number {
    return this.total;
  }

  add(type: string, cause: string, message: string, details?: Record<string, unknown>): LoggedEvent {
    const event: LoggedEvent = Object.freeze({
      seq: ++this.seq,
      at: new Date(this.clock.now()).toISOString(),
      type,
      cause,
      message,
      ...(details && { details: Object.freeze({ ...details }) }),
    });
    let queue = this.byType.get(type);
    if (!queue) {
      queue = new TypeQueue();
      this.byType.set(type, queue);
    }
    queue.push(event);
    this.total++;
    if (this.total > this.capacity) this.evict();
    this.emit(event);
    return event;
  }

  /** Drops the oldest event of the largest type (ties: the type whose oldest event is oldest). */
  private evict(): void {
    let victim: TypeQueue | undefined;
    let victimType = "";
    for (const [type, q] of this.byType) {
      if (!victim || q.size > victim.size || (q.size === victim.size && q.at(0).seq < victim.at(0).seq)) {
        victim = q;
        victimType = type;
      }
    }
    if (!victim) return;
    victim.shift();
    this.total--;
    if (victim.size === 0) this.byType.delete(victimType);
  }

  /** Events after `afterSeq`, optionally of some types, at most `limit` (newest kept), in seq order. */
  list(options: EventListOptions = {}): LoggedEvent[] {
    const after = options.afterSeq ?? 0;
    const wanted = options.types?.length ? options.types : [...this.byType.keys()];
    const cursors: { q: TypeQueue; start: number; i: number }[] = [];
    for (const type of new Set(wanted)) {
      const q = this.byType.get(type);
      if (!q) continue;
      const start = q.firstAfter(after);
      if (start < q.size) cursors.push({ q, start, i: q.size - 1 });
    }
    // Merge from the newest end, so a limit stops the walk early.
    const out: LoggedEvent[] = [];
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    while (out.length < limit) {
      let best: (typeof cursors)[number] | undefined;
      for (const c of cursors) {
        if (c.i >= c.start && (!best || c.q.at(c.i).seq > best.q.at(best.i).seq)) best = c;
      }
      if (!best) break;
      out.push(best.q.at(best.i));
      best.i--;
    }
    return out.reverse();
  }
}
