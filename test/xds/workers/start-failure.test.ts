/**
 * Workers are forked early (their code loads while the main process
 * publishes its first version); a start that fails after that (here: a
 * config folder that does not parse) stops them: no worker process is
 * left behind.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startTestApp } from "../../helpers/app";
import { waitFor } from "../../helpers/wait";

/** This process's child processes still running (pgrep exits 1 when there are none). */
function children(): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(process.pid)], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe("a failed start with workers", () => {
  it("rejects naming the problem and leaves no worker process", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wasmxds-workers-fail-"));
    try {
      await writeFile(join(dir, "wasmxds.yaml"), "listeners: [: not yaml\n");
      const before = children();
      await expect(startTestApp(dir, { stateDir: null, workers: 2 })).rejects.toThrow(/wasmxds\.yaml/);
      await waitFor("the workers gone", () => children().filter((pid) => !before.includes(pid)).length === 0 || undefined, 10_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
