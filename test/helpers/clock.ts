/**
 * Driving the control plane's FakeClock while real peers (simulated Envoys,
 * ADS clients) answer over real sockets: time moves only when the test
 * says, in ticks, with a real pause between ticks for the I/O they cause.
 */
import { FakeClock } from "../../src/time/fake-clock";

/** A FakeClock starting at the real time, so timestamps in logs and state files read sensibly. */
export function testClock(): FakeClock {
  return new FakeClock(Date.now());
}

export interface AdvanceOptions {
  /** Fake time per tick (default 500 ms, the rollout controller's tick). */
  readonly stepMs?: number;
  /** Gives up after this much fake time (default 10 minutes). */
  readonly maxMs?: number;
  /** Gives up after this much real time (default 10 s). */
  readonly realTimeoutMs?: number;
}

/**
 * Advances `clock` a tick at a time until `check` returns a value other than
 * undefined/false, letting real I/O run between ticks; returns that value.
 */
export async function advanceUntil<T>(clock: FakeClock, what: string, check: () => T | undefined | false, o: AdvanceOptions = {}): Promise<T> {
  const stepMs = o.stepMs ?? 500;
  const fakeDeadline = clock.now() + (o.maxMs ?? 600_000);
  const realDeadline = Date.now() + (o.realTimeoutMs ?? 10_000);
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (clock.now() >= fakeDeadline) throw new Error(`${what}: not after ${o.maxMs ?? 600_000} ms of fake time`);
    if (Date.now() > realDeadline) throw new Error(`${what}: not within ${o.realTimeoutMs ?? 10_000} ms of real time`);
    clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 5));
  }
}
