/**
 * The logger interface injected everywhere. Components never write to the
 * console themselves; the CLI decides where lines go.
 *
 * Field values often come from peers (a type URL, an error_detail message,
 * a node id): every logger bounds them (boundFields), so that one request
 * cannot write a line of a million characters (issue 11, item 8).
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

/** Longest string kept in a log field or message; the rest is cut and counted. */
export const MAX_LOG_STRING = 512;
/** Most items kept of an array (or keys of an object) in a log field. */
export const MAX_LOG_ITEMS = 32;
const MAX_LOG_DEPTH = 4;

/** A string cut to MAX_LOG_STRING characters, saying how many were cut. */
export function boundString(s: string, max = MAX_LOG_STRING): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more characters)`;
}

function boundValue(v: unknown, depth: number): unknown {
  if (typeof v === "string") return boundString(v);
  if (v === null || typeof v !== "object" || v instanceof Date) return v;
  if (depth >= MAX_LOG_DEPTH) return "[nested too deep]";
  if (v instanceof Error) return boundString(v.message);
  if (Array.isArray(v)) {
    const kept = v.slice(0, MAX_LOG_ITEMS).map((x) => boundValue(x, depth + 1));
    if (v.length > MAX_LOG_ITEMS) kept.push(`… (${v.length - MAX_LOG_ITEMS} more items)`);
    return kept;
  }
  return boundObject(v as Record<string, unknown>, depth + 1);
}

function boundObject(o: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, x] of Object.entries(o)) {
    if (n++ === MAX_LOG_ITEMS) {
      out["…"] = `${Object.keys(o).length - MAX_LOG_ITEMS} more fields`;
      break;
    }
    out[boundString(k, 64)] = boundValue(x, depth);
  }
  return out;
}

/** Fields with long strings cut, long arrays and objects shortened and deep nesting elided. */
export function boundFields(fields: Record<string, unknown>): Record<string, unknown> {
  return boundObject(fields, 0);
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
    sink({ level: lvl, msg: boundString(msg, MAX_LOG_STRING * 2), time: Date.now(), fields: boundFields({ ...base, ...fields }) });
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
