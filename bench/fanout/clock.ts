/**
 * The clock every fan-out benchmark process stamps events with: milliseconds
 * since the epoch as performance.timeOrigin + performance.now().
 *
 * Why not Date.now(): it has 1 ms resolution, and the figures we compare
 * against targets are tens of milliseconds with sub-millisecond spreads.
 * performance.now() is monotonic with microsecond resolution inside a
 * process; timeOrigin is the wall clock sampled once when the process
 * started, which puts every process on the same time base as long as the
 * system clock was not stepped in between. The orchestrator checks that
 * assumption by measuring each child's offset (calibrate(), NTP-style) and
 * subtracts it from what the child reports.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * CLOCK_MONOTONIC in microseconds, the time base of V8's .cpuprofile
 * (startTime, endTime), so profile samples can be cut into scenario windows.
 */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface ClockOffset {
  /** Child clock minus parent clock, ms (subtract from the child's stamps). */
  readonly offsetMs: number;
  /** Half the round trip of the best sample: the offset's uncertainty, ms. */
  readonly uncertaintyMs: number;
}

/**
 * Estimates a child's clock offset from `samples` round trips (`ask` sends a
 * request and resolves with the child's now()), keeping the sample with the
 * shortest round trip (the least queueing, as NTP does).
 */
export async function calibrate(ask: () => Promise<number>, samples = 20): Promise<ClockOffset> {
  let best: ClockOffset | undefined;
  for (let i = 0; i < samples; i++) {
    const sent = now();
    const child = await ask();
    const received = now();
    const half = (received - sent) / 2;
    if (!best || half < best.uncertaintyMs) best = { offsetMs: child - (sent + half), uncertaintyMs: half };
  }
  if (!best) throw new Error("calibrate: no samples");
  return best;
}
