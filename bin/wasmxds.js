#!/usr/bin/env node
// The `wasmxds` command: runs the build (dist/cli/run.js), made by `npm run build`
// and by `npm ci` (the prepare script). Tests run the same entry from the
// TypeScript sources (src/cli/run.ts, test/helpers/cli-process.ts).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import module from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const built = `${root}dist/cli/run.js`;

// In a checkout (sources and build script beside bin/), a dist/ older than a
// source would run yesterday's code without a word: a demo script or a
// developer running bin/wasmxds.js after an edit got the old behaviour. Rebuild
// the JavaScript first (a few seconds); an installed package has no src/ and
// skips this. The check is a walk of src/ mtimes (a few milliseconds).
if (existsSync(`${root}src/cli/run.ts`) && existsSync(`${root}scripts/build.mjs`) && stale()) {
  process.stderr.write("wasmxds: dist/ is older than src/; rebuilding the JavaScript (npm run build)\n");
  const r = spawnSync(process.execPath, [`${root}scripts/build.mjs`, "--js"], { stdio: ["ignore", 2, 2] });
  if (r.status !== 0) process.stderr.write("wasmxds: the rebuild failed; running the existing dist/ if there is one\n");
}

// Node 22.1 and later keep V8's compiled code of dist/ between runs, sparing most of
// the compile time of the next start (docs/PERFORMANCE.md, "Start-up"); Node 20 has no such cache.
module.enableCompileCache?.();
try {
  await import("../dist/cli/run.js");
} catch (err) {
  const missing = err instanceof Error && "code" in err && err.code === "ERR_MODULE_NOT_FOUND" && err.message.includes("dist/cli/run.js");
  if (!missing) throw err;
  process.stderr.write("wasmxds: dist/ is not built; run `npm run build` (or `npm ci`, which builds) first\n");
  process.exitCode = 1;
}

function stale() {
  if (!existsSync(built)) return true;
  const at = statSync(built).mtimeMs;
  const newer = (dir) =>
    readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = `${dir}/${e.name}`;
      return e.isDirectory() ? newer(p) : statSync(p).mtimeMs > at;
    });
  return newer(`${root}src`) || statSync(`${root}package.json`).mtimeMs > at;
}
