/**
 * The logger interface injected everywhere. Components never write to the
 * console themselves; the CLI decides where lines go.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface LogRecord {
  level: Exclude<LogLevel, "silent">;
  msg: string;
  time: number;
  fields: Record<string, unknown>;
}

/** A logger that hands records to a sink function (the CLI's or a test's). */
export function createLogger(
  sink: (record: LogRecord) => void,
  level: LogLevel = "info",
  base: Record<string, unknown> = {},
): Logger {
  const min = ORDER[level];
  const emit = (lvl: LogRecord["level"], msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    sink({ level: lvl, msg, time: Date.now(), fields: { ...base, ...fields } });
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(sink, level, { ...base, ...fields }),
  };
}

/** JSON lines on a stream (the default for `serve`). */
export function jsonLogger(stream: NodeJS.WritableStream, level: LogLevel = "info"): Logger {
  return createLogger((r) => {
    stream.write(`${JSON.stringify({ level: r.level, time: new Date(r.time).toISOString(), msg: r.msg, ...r.fields })}\n`);
  }, level);
}

/** Discards everything (tests, library use). */
export const silentLogger: Logger = createLogger(() => {}, "silent");

/** Keeps records in memory (tests). */
export function memoryLogger(level: LogLevel = "debug"): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  return Object.assign(createLogger((r) => records.push(r), level), { records });
}
