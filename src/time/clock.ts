/**
 * The one clock. Everything time-driven in the control plane (stream
 * timeouts, shutdown grace, health windows, rollout bakes, rate limits) and
 * in a simulated node (stats flushes, FAIL_RELOAD backoff, remote fetch
 * retries, xDS reconnects, traffic) goes through a Clock, so tests and
 * benchmarks can swap in FakeClock and move time by hand.
 *
 * `startWasmxds({ clock })` hands one clock to every part: the health
 * monitor's evaluation tick, the rollout controller's tick and bakes, the
 * cache-miss re-push waits, stream timeouts, the admin stats poller, log
 * rate limits, and the timestamps of signals, events and checks. Left on
 * real time, on purpose: waits bounded by real work on real resources,
 * which a test that stops advancing a FakeClock would turn into hangs: the
 * shutdown grace for open sockets (net/grpc-server.ts), the pre-flight
 * worker's time budget (wasm/preflight/run-in-worker.ts), the watcher's
 * debounce of file events (watch/folder-watcher.ts), remote module fetch
 * timeouts and retries (wasm/remote-fetch.ts), and the CLI's own timers.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. Envoy's monotonic and system clocks are one clock here. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds (0 or less: on the next turn). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/** The process clock: Date.now and Node's timers. */
export const realClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle => {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
});

/**
 * Calls `fn` every `ms` until cancelled, on any clock. Each run is scheduled
 * after the previous one returns, like Envoy's re-armed dispatcher timers
 * (the stats flush timer is re-enabled at the end of each flush).
 */
export function every(clock: Clock, ms: number, fn: () => void): TimerHandle {
  let handle: TimerHandle | undefined;
  let cancelled = false;
  const arm = () => {
    handle = clock.setTimeout(() => {
      if (cancelled) return;
      fn();
      if (!cancelled) arm();
    }, ms);
  };
  arm();
  return {
    cancel: () => {
      cancelled = true;
      handle?.cancel();
    },
  };
}
