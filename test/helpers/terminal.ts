/** A Terminal (src/cli/output.ts) that keeps what a command prints, for tests that run commands in-process. */
import { Writable } from "node:stream";
import type { Terminal } from "../../src/cli/output";

export function memoryTerminal(): Terminal & { text: () => { out: string; err: string } } {
  const chunks = { out: "", err: "" };
  const sink = (k: "out" | "err") =>
    new Writable({
      write(chunk, _enc, cb) {
        chunks[k] += String(chunk);
        cb();
      },
    });
  return { out: sink("out"), err: sink("err"), color: false, text: () => chunks };
}
