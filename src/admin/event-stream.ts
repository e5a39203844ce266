/**
 * GET /v1/events/stream: the event log as server-sent events
 * (text/event-stream; https://html.spec.whatwg.org/multipage/server-sent-events.html),
 * so a console or a script follows it without polling. `?after=N` replays
 * the events after seq N first (a client that lost its stream resumes
 * there), `?type=T` keeps some types. Each event is `id: <seq>`,
 * `event: <type>`, `data: <the JSON of GET /v1/events>`.
 *
 * Bounded (docs/CONSOLE.md, "Live updates"): at most
 * `maxClients` streams at once (one more is a 503; the console then polls
 * GET /v1/events), and a client that does not read is cut once
 * `maxBufferedBytes` wait in its socket: it reconnects with `after` and
 * loses nothing the log still holds. A comment line every `keepAliveMs`
 * finds dead peers, on the injected clock.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EventLog, LoggedEvent } from "../events/event-log";
import { type Clock, type TimerHandle, every, realClock } from "../time/clock";
import { AdminHttpError } from "./admin-error";
import type { AdminRouter } from "./admin-server";

export interface EventStreamLimits {
  readonly maxClients: number;
  readonly maxBufferedBytes: number;
  readonly keepAliveMs: number;
}

export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = Object.freeze({ maxClients: 16, maxBufferedBytes: 256 * 1024, keepAliveMs: 15_000 });

/** Events replayed on connect at most (the newest of them). */
const MAX_REPLAY = 1000;

function frame(e: LoggedEvent): string {
  // JSON has no raw newlines, so one data: line carries it.
  return `id: ${e.seq}\nevent: ${e.type.replace(/[\r\n]/g, " ")}\ndata: ${JSON.stringify(e)}\n\n`;
}

export class EventStreams {
  private readonly clients = new Set<ServerResponse>();

  constructor(
    private readonly events: EventLog,
    private readonly limits: EventStreamLimits = DEFAULT_EVENT_STREAM_LIMITS,
    private readonly clock: Clock = realClock,
  ) {}

  /** Streams open now. */
  get size(): number {
    return this.clients.size;
  }

  /** Throws AdminHttpError 503 when `maxClients` streams are open. */
  check(): void {
    if (this.clients.size >= this.limits.maxClients) {
      throw new AdminHttpError(503, `too many event streams open (${this.limits.maxClients}); poll GET /v1/events?after=N instead, or retry later`);
    }
  }

  /** Takes over `res` until the client goes: the events after `after`, then each new one. */
  open(req: IncomingMessage, res: ServerResponse, after: number, types: readonly string[]): void {
    this.clients.add(res);
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" });
    const wanted = new Set(types);
    let last = after;
    let keepAlive: TimerHandle | undefined;
    const close = () => {
      unsubscribe();
      keepAlive?.cancel();
      this.clients.delete(res);
      if (!res.writableEnded) res.end();
    };
    const send = (text: string): void => {
      if (res.writableEnded) return;
      res.write(text);
      // A client that does not read: cut it rather than buffer without end; it resumes with ?after=.
      if (res.writableLength > this.limits.maxBufferedBytes) {
        close();
        req.socket.destroy();
      }
    };
    const unsubscribe = this.events.on((e) => {
      if (e.seq <= last || (wanted.size > 0 && !wanted.has(e.type))) return;
      last = e.seq;
      send(frame(e));
    });
    res.on("close", close);
    send(`retry: 1000\n\n`);
    for (const e of this.events.list({ afterSeq: after, types, limit: MAX_REPLAY })) {
      last = Math.max(last, e.seq);
      send(frame(e));
    }
    // Cut during the replay already: nothing to keep alive.
    if (this.clients.has(res)) keepAlive = every(this.clock, this.limits.keepAliveMs, () => send(": keep-alive\n\n"));
  }
}

export function addEventStreamRoute(router: AdminRouter, streams: EventStreams): AdminRouter {
  return router.add("GET", "/v1/events/stream", (req) => {
    const raw = req.query.get("after") ?? "0";
    if (!/^\d{1,15}$/.test(raw)) throw new AdminHttpError(400, `after: expected a non-negative integer, got ${JSON.stringify(raw.slice(0, 20))}`);
    const types = req.query.getAll("type").flatMap((t) => t.split(",")).filter((t) => t !== "");
    streams.check();
    return { stream: (httpReq, res) => streams.open(httpReq, res, Number(raw), types) };
  });
}
