/**
 * The event log: what the control plane did and saw (publishes, rejected
 * versions, NACKs, connects, rollbacks), newest last, bounded in memory.
 * The admin API serves it at GET /v1/events.
 */
import { Emitter } from "../emitter";

export interface LoggedEvent {
  readonly seq: number;
  readonly at: string;
  readonly type: string;
  /** Who or what caused it (e.g. "watcher", "node envoy-1", "operator"). */
  readonly cause: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export class EventLog extends Emitter<LoggedEvent> {
  private readonly events: LoggedEvent[] = [];
  private seq = 0;

  constructor(private readonly capacity = 5000) {
    super();
  }

  add(type: string, cause: string, message: string, details?: Record<string, unknown>): LoggedEvent {
    const event: LoggedEvent = Object.freeze({
      seq: ++this.seq,
      at: new Date().toISOString(),
      type,
      cause,
      message,
      ...(details && { details: Object.freeze({ ...details }) }),
    });
    this.events.push(event);
    if (this.events.length > this.capacity) this.events.shift();
    this.emit(event);
    return event;
  }

  /** Events after `afterSeq` (all when 0), optionally of some types, at most `limit` (newest kept). */
  list(options: { afterSeq?: number; types?: readonly string[]; limit?: number } = {}): LoggedEvent[] {
    const after = options.afterSeq ?? 0;
    const picked = this.events.filter((e) => e.seq > after && (!options.types?.length || options.types.includes(e.type)));
    return options.limit !== undefined ? picked.slice(-options.limit) : picked;
  }
}
