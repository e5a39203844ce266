#!/usr/bin/env node
// The `wasmxds` command: runs the build (dist/cli/run.js), made by `npm run build`
// and by `npm ci` (the prepare script). Tests run the same entry from the
// TypeScript sources (src/cli/run.ts, test/helpers/cli-process.ts).
import module from "node:module";

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
