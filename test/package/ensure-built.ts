/**
 * The tests in test/package/ run what the package ships: dist/. `npm ci`
 * builds it (the prepare script); when a developer has edited the sources
 * since, ensureBuilt() rebuilds first (`npm run build`), so these tests never
 * pass or fail on a stale build. Test files run in parallel processes, so the
 * build is guarded by a lock folder.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "../..");
/** Written by a full build (scripts/build.mjs), after the declarations. */
const STAMP = join(ROOT, "dist/.built");
const INPUTS = ["src", "scripts/build.mjs", "package.json", "tsconfig.json", "tsconfig.build.json"];
const LOCK = join(ROOT, "dist.build-lock");

function newestInput(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const e of readdirSync(path)) newest = Math.max(newest, newestInput(join(path, e)));
  return newest;
}

function isFresh(): boolean {
  let built: number;
  try {
    built = statSync(STAMP).mtimeMs;
  } catch {
    return false;
  }
  return INPUTS.every((p) => newestInput(join(ROOT, p)) <= built);
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Builds dist/ unless it is newer than every input; waits for a build another test process started. */
export function ensureBuilt(): void {
  for (;;) {
    if (isFresh()) return;
    try {
      mkdirSync(LOCK);
    } catch {
      // Another process is building; a lock older than 5 minutes is left from a killed run.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 300_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {}
      sleep(250);
      continue;
    }
    try {
      if (!isFresh()) execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "pipe" });
      return;
    } finally {
      rmSync(LOCK, { recursive: true, force: true });
    }
  }
}
