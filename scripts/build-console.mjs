// Builds the web console into dist/console/ (docs/CONSOLE.md): the page and
// style sheet copied from src/admin/console/assets/, the script bundled by
// esbuild from src/admin/console/client/main.ts for browsers (no framework,
// no CDN: everything is served by wasmxds itself). Called by
// scripts/build.mjs and by the console's browser tests, which build it before
// they start (a few tens of milliseconds). Files are written to a temporary
// name and renamed, so a server reading them never sees half a file.
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");

export async function buildConsole(outDir = join(ROOT, "dist", "console")) {
  mkdirSync(outDir, { recursive: true });
  const tag = `${process.pid}-${Date.now()}`;
  const out = await build({
    absWorkingDir: ROOT,
    entryPoints: ["src/admin/console/client/main.ts"],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  const js = out.outputFiles[0];
  if (!js) throw new Error("build-console: esbuild wrote no script");
  writeFileSync(join(outDir, `app.js.${tag}`), js.contents);
  renameSync(join(outDir, `app.js.${tag}`), join(outDir, "app.js"));
  for (const f of ["index.html", "style.css"]) {
    copyFileSync(join(ROOT, "src/admin/console/assets", f), join(outDir, `${f}.${tag}`));
    renameSync(join(outDir, `${f}.${tag}`), join(outDir, f));
  }
}
