/**
 * Terminal output for the CLI: the one place that writes to stdout/stderr.
 * Colours only when the stream is a TTY and NO_COLOR is unset.
 */
import { type LogLevel, type LogRecord, type Logger, createLogger } from "../logger";

export interface Terminal {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  readonly color: boolean;
}

export function processTerminal(): Terminal {
  const tty = Boolean((process.stdout as { isTTY?: boolean }).isTTY);
  return { out: process.stdout, err: process.stderr, color: tty && !process.env.NO_COLOR && process.env.TERM !== "dumb" };
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Color = keyof typeof CODES;

export function paint(term: Pick<Terminal, "color">, color: Color, text: string): string {
  return term.color ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text;
}

/** A logger for `serve`: JSON lines (default) or readable lines, on stderr. */
export function cliLogger(term: Terminal, level: LogLevel, format: "json" | "pretty"): Logger {
  return createLogger((r) => term.err.write(format === "json" ? jsonLine(r) : prettyLine(term, r)), level);
}

function jsonLine(r: LogRecord): string {
  return `${JSON.stringify({ level: r.level, time: new Date(r.time).toISOString(), msg: r.msg, ...r.fields })}\n`;
}

const LEVEL_COLOR: Record<LogRecord["level"], Color> = { debug: "gray", info: "cyan", warn: "yellow", error: "red" };

function prettyLine(term: Terminal, r: LogRecord): string {
  const time = new Date(r.time).toISOString().slice(11, 23);
  const fields = Object.entries(r.fields)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${paint(term, "gray", time)} ${paint(term, LEVEL_COLOR[r.level], r.level.padEnd(5))} ${r.msg}${fields ? ` ${paint(term, "gray", fields)}` : ""}\n`;
}
