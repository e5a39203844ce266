/**
 * A worker process's logger: every line goes to the main process, which
 * writes it with its own logger (so `--log-level`, the format and the
 * bounds on peer-controlled strings are the main process's). Debug lines
 * stay in the worker unless asked for: one per push would cost the channel
 * more than the push.
 */
import type { Logger } from "../../logger";

type Level = "debug" | "info" | "warn" | "error";

/** A log line on its way to the main process (in the worker's next report). */
export interface WorkerLog {
  readonly level: Level;
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

export function workerLogger(send: (line: WorkerLog) => void, debug: boolean, base: Record<string, unknown> = {}): Logger {
  const line = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (level === "debug" && !debug) return;
    send({ level, message, fields: { ...base, ...fields } });
  };
  return {
    debug: line("debug"),
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
    child: (fields) => workerLogger(send, debug, { ...base, ...fields }),
  };
}
