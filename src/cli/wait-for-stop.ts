/**
 * Resolves when the command should stop: SIGINT, SIGTERM, the abort signal,
 * or after `ms` when given.
 */
export function waitForStop(signal: AbortSignal, ms?: number): Promise<void> {
  const stop = stopSignal(signal, ms);
  return stop.promise;
}

export interface StopSignal {
  /** Resolves on the first SIGINT/SIGTERM, abort or timeout. */
  readonly promise: Promise<void>;
  /** Whether that has happened. */
  readonly stopped: boolean;
  /** Removes the handlers (e.g. when start-up failed and the command returns anyway). */
  dispose(): void;
}

/**
 * Installs the SIGINT/SIGTERM handlers now, so that a signal that arrives
 * while the command is still starting is kept rather than killing the
 * process (Node's default action). The handlers are `once`: after the
 * first signal, a second one has its default action and ends the process
 * at once, as a second Ctrl-C should.
 */
export function stopSignal(signal: AbortSignal, ms?: number): StopSignal {
  let stopped = false;
  let done: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    const timer = ms === undefined ? undefined : setTimeout(() => done(), ms);
    done = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    if (signal.aborted) return done();
    signal.addEventListener("abort", done, { once: true });
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  return {
    promise,
    get stopped() {
      return stopped;
    },
    dispose: () => done(),
  };
}
