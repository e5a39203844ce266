/**
 * Work nobody waits for: a quarantine written while a rollback goes out, a
 * reload after a file change, a timer's health evaluation, a request the
 * admin server answers. A rejection there is an unhandled rejection, and
 * Node ends the process on one (issue 11: a state write that failed during
 * a rollback killed the control plane). Every promise started in the
 * background goes through runInBackground, which logs the failure and
 * records it in the event log, and the process keeps running. Biome's
 * noVoid rule keeps `void promise` out of the code base (biome.json).
 */
import { errorMessage } from "./errors";
import type { Logger } from "./logger";

/** Where background failures are reported (the EventLog fits; an interface so this file depends on nothing above it). */
export interface BackgroundEvents {
  add(type: string, cause: string, message: string, details?: Record<string, unknown>): unknown;
}

export interface BackgroundReport {
  readonly logger: Logger;
  readonly events?: BackgroundEvents;
}

/** The event type of a failed background task. */
export const BACKGROUND_FAILURE = "background-failure";

/**
 * Runs `work` without waiting for it. `what` says what it was doing, for the
 * log line and the event ("saving state after the rollback of guard@1234abcd").
 * A function is called at once, and a synchronous throw is reported like a rejection.
 */
export function runInBackground(work: PromiseLike<unknown> | (() => PromiseLike<unknown> | undefined), what: string, report: BackgroundReport): void {
  let promise: PromiseLike<unknown> | undefined;
  try {
    promise = typeof work === "function" ? work() : work;
  } catch (err) {
    reportFailure(err, what, report);
    return;
  }
  promise?.then(undefined, (err: unknown) => reportFailure(err, what, report));
}

function reportFailure(err: unknown, what: string, report: BackgroundReport): void {
  const error = errorMessage(err);
  try {
    report.logger.error(`${what} failed: ${error}`, { task: what, error });
    report.events?.add(BACKGROUND_FAILURE, "internal", `${what} failed: ${error}`, { task: what, error });
  } catch {
    // Reporting must not throw either: this runs where nobody can catch it.
  }
}
