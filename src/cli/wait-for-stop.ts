/**
 * Resolves when the command should stop: SIGINT, SIGTERM, the abort signal,
 * or after `ms` when given.
 */
export function waitForStop(signal: AbortSignal, ms?: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = ms === undefined ? undefined : setTimeout(() => done(), ms);
    const done = () => {
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
}
