/**
 * Backpressure of one xDS stream, whatever its protocol: while more than
 * limits.maxBufferedBytes are written and not yet taken by the connection,
 * the stream writes nothing more (it marks the type pending and decides
 * again, on the newest snapshot, when the transport drains); a stream
 * blocked longer than limits.blockedTimeoutMs is given up on, with a message
 * naming both limits (docs/RELIABILITY.md "Peers").
 */
import type { Clock, TimerHandle } from "../time/clock";
import type { StreamLimits } from "./limits";

export class Backpressure {
  /** When the stream became blocked; undefined while it is not. */
  since: number | undefined;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly bufferedBytes: (() => number) | undefined,
    private readonly limits: StreamLimits,
    private readonly clock: Clock,
    /** Told when the stream stayed blocked too long (and still is), with the reason. */
    private readonly onTimeout: (details: string) => void,
    /** Told whenever `since` changes (the stream's status is cached). */
    private readonly changed: () => void,
  ) {}

  blocked(): boolean {
    const buffered = this.bufferedBytes?.();
    return buffered !== undefined && buffered >= this.limits.maxBufferedBytes;
  }

  /** Notes that the stream is blocked and arms the timeout (once). */
  block(): void {
    if (this.since !== undefined) return;
    this.since = this.clock.now();
    this.changed();
    this.timer = this.clock.setTimeout(() => this.fire(), this.limits.blockedTimeoutMs);
  }

  unblock(): void {
    if (this.since === undefined) return;
    this.cancel();
    this.since = undefined;
    this.changed();
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    if (!this.blocked()) {
      this.unblock();
      return;
    }
    const buffered = this.bufferedBytes?.() ?? 0;
    this.onTimeout(
      `the client did not read its responses: ${buffered} bytes waited to be taken for ${this.limits.blockedTimeoutMs} ms, over the limit of ${this.limits.maxBufferedBytes} bytes (maxBufferedBytes, blockedTimeoutMs)`,
    );
  }
}
