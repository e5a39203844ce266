/**
 * Runs `wasmxds` as a child process (as a user would) and reads its JSON log lines.
 *
 * The command runs from the TypeScript sources (wasmxds-src.mjs registers tsx,
 * then runs src/cli/run.ts, the entry bin/wasmxds.js runs built), so a test
 * sees the code as edited without a build; the built command is tested in
 * test/package/.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";

/** A script to run with `node BIN <args>`: the `wasmxds` command from the sources. */
export const BIN = join(import.meta.dirname, "wasmxds-src.mjs");

export interface CliProcess {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  /** Resolves with the first log line matching. */
  waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves once everything printed so far (stdout and stderr) matches. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  readonly exited: Promise<number | null>;
  outputText(): string;
}

/** Starts `wasmxds <args>`; `bin` is the script node runs (default: the sources, BIN). */
export function startCli(args: string[], env: Record<string, string> = {}, bin: string = BIN): CliProcess {
  const child = spawn(process.execPath, [bin, ...args, "--log-format", "json"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Array<Record<string, unknown>> = [];
  let raw = "";
  let buf = "";
  const waiters = new Set<() => void>();
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    raw += chunk;
    buf += chunk;
    let i = buf.indexOf("\n");
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ raw: line });
      }
      i = buf.indexOf("\n");
    }
    for (const w of waiters) w();
  });
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    raw += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    outputText: () => raw,
    waitFor(pred, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find(pred);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching log line within ${timeoutMs} ms; output:\n${raw}`));
        }, timeoutMs);
        waiters.add(check);
        exited.then(
          () => setTimeout(check, 10),
          () => setTimeout(check, 10),
        );
        check();
      });
    },
    async waitForOutput(re, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(raw)) {
        if (Date.now() > deadline) throw new Error(`output did not match ${re} within ${timeoutMs} ms:\n${raw}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Runs `wasmxds <args>` to the end (NO_COLOR set) and resolves with its stdout; rejects when it exits non-zero. */
export function runCli(args: string[], env: Record<string, string> = {}, bin: string = BIN): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: "1", ...env } }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
}
