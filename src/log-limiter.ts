/**
 * Rate limit for warnings a peer can trigger: a bad request, a subscription
 * to a type this server does not serve, a NACK, a rejected metrics stream,
 * an admin endpoint that does not answer. Without it, 20,000 requests gave
 * 20,000 warning lines (issue 11, item 8).
 *
 * Per key (what happened and who did it, e.g. "ignored-type|node-7") the
 * first `perKey` warnings of a window are logged, and at most `total` of
 * all keys together; the rest are counted, and when the window closes one
 * line says how many were suppressed and for which keys. Keys are cut to
 * 200 characters and at most `maxKeys` are tracked per window (later keys
 * count against `total` only), so the limiter's own memory is bounded too.
 * Time comes from the injected Clock; close() cancels the pending summary
 * (and logs it), so nothing keeps a stopping process alive.
 */
import type { Logger } from "./logger";
import { type Clock, type TimerHandle, realClock } from "./time/clock";

export interface LogLimits {
  /** Window length (default 60 s). */
  readonly windowMs: number;
  /** Lines per key per window (default 5). */
  readonly perKey: number;
  /** Lines per window over all keys (default 50). */
  readonly total: number;
  /** Keys tracked per window (default 1000). */
  readonly maxKeys: number;
}

export const DEFAULT_LOG_LIMITS: LogLimits = Object.freeze({ windowMs: 60_000, perKey: 5, total: 50, maxKeys: 1000 });

const KEY_LENGTH = 200;
const EXAMPLE_KEYS = 5;

export class LogLimiter {
  private readonly limits: LogLimits;
  private counts = new Map<string, number>();
  private logged = 0;
  private suppressed = 0;
  private readonly suppressedKeys = new Map<string, number>();
  private windowEnd: number | undefined;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock = realClock,
    limits: Partial<LogLimits> = {},
  ) {
    this.limits = Object.freeze({ ...DEFAULT_LOG_LIMITS, ...limits });
  }

  warn(key: string, msg: string, fields?: Record<string, unknown>): void {
    if (this.allow(key)) this.logger.warn(msg, fields);
  }

  /** Whether a line for `key` may be written now (counts it either way). */
  allow(key: string): boolean {
    const now = this.clock.now();
    if (this.windowEnd !== undefined && now >= this.windowEnd) this.endWindow();
    if (this.windowEnd === undefined) this.windowEnd = now + this.limits.windowMs;
    const k = key.length > KEY_LENGTH ? key.slice(0, KEY_LENGTH) : key;
    const seen = this.counts.get(k);
    if (seen === undefined && this.counts.size >= this.limits.maxKeys) return this.suppress("(other keys)");
    const count = (seen ?? 0) + 1;
    this.counts.set(k, count);
    if (count > this.limits.perKey || this.logged >= this.limits.total) return this.suppress(k);
    this.logged++;
    return true;
  }

  /** Logs the summary of the current window, if anything was suppressed, and cancels its timer. */
  close(): void {
    this.endWindow();
  }

  private suppress(key: string): false {
    this.suppressed++;
    if (this.suppressedKeys.has(key) || this.suppressedKeys.size < this.limits.maxKeys) {
      this.suppressedKeys.set(key, (this.suppressedKeys.get(key) ?? 0) + 1);
    }
    if (!this.timer && this.windowEnd !== undefined) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.endWindow();
      }, this.windowEnd - this.clock.now());
    }
    return false;
  }

  private endWindow(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.suppressed > 0) {
      const top = [...this.suppressedKeys.entries()].sort((a, b) => b[1] - a[1]).slice(0, EXAMPLE_KEYS);
      this.logger.warn(`suppressed ${this.suppressed} similar warnings`, {
        suppressed: this.suppressed,
        keys: this.suppressedKeys.size,
        windowMs: this.limits.windowMs,
        top: Object.fromEntries(top),
      });
    }
    this.counts = new Map();
    this.suppressedKeys.clear();
    this.logged = 0;
    this.suppressed = 0;
    this.windowEnd = undefined;
  }
}
