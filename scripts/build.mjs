#!/usr/bin/env node
// Builds dist/, what bin/wasmxds.js and the package's exports run:
//
//   node scripts/build.mjs        JavaScript and declaration files (npm run build, prepare)
//   node scripts/build.mjs --js   JavaScript only (a few seconds)
//   node scripts/build.mjs --js --if-stale
//                                 the same, skipped when dist/ is newer than
//                                 the sources (npm start: current code, no wait)
//
// JavaScript: esbuild, two builds into dist/:
// - the library (the package's exports, and the pre-flight worker): each entry
//   bundled with code splitting, so what entries share is one file
//   (dist/chunks/); dependencies stay external, because a library user's
//   @grpc/grpc-js (whose Server XdsServer.register takes) must be the one
//   wasmxds uses.
// - the command (dist/cli/run.js, which bin/wasmxds.js runs): dependencies
//   bundled in too. Node's ESM loader pays per file (resolution, reading,
//   CommonJS export detection), and grpc-js, zod, yaml and protobufjs are
//   hundreds of files: loading `serve` took about 200 ms longer with them
//   external (docs/PERFORMANCE.md, "Start-up"). Each command is a dynamic
//   import(), so a separate chunk loaded only when that command runs.
// The sources import each other without file extensions (moduleResolution
// "Bundler"), which tsc's own emit would leave unrunnable in Node; a bundler
// resolves them.
//
// Declarations: tsc (TypeScript 7 emits .d.ts files) from tsconfig.build.json,
// one per source file, then relative imports in them get the ".js" or
// "/index.js" a consumer's moduleResolution "node16"/"nodenext" requires.
//
// The protos are read at run time from protos/ beside package.json
// (src/package-root.ts); test fixtures are not part of the build.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { build } from "esbuild";
import { buildConsole } from "./build-console.mjs";

const root = resolve(import.meta.dirname, "..");
const dist = join(root, "dist");
const jsOnly = process.argv.includes("--js");

/** Library entries: output path (under dist/, without .js) -> source. package.json "exports" points at these. */
const LIBRARY = {
  index: "src/index.ts",
  "cache/index": "src/cache/index.ts",
  "xds/index": "src/xds/index.ts",
  "sim/index": "src/sim/index.ts",
  // Loaded by path by src/wasm/preflight/run-in-worker.ts.
  "wasm/preflight/worker-main": "src/wasm/preflight/worker-main.ts",
};

const COMMON = {
  absWorkingDir: root,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.11",
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: "linked",
  logLevel: "warning",
};

function* files(dir) {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

const started = performance.now();
if (process.argv.includes("--if-stale") && isCurrent()) process.exit(0);
if (jsOnly) {
  // Keep the declarations; drop old JavaScript (chunk names carry a hash).
  for (const f of files(dist)) if (f.endsWith(".js") || f.endsWith(".js.map")) rmSync(f);
} else {
  rmSync(dist, { recursive: true, force: true });
}

await build({ ...COMMON, entryPoints: LIBRARY, outdir: dist, packages: "external", legalComments: "none" });
await build({
  ...COMMON,
  // xds-worker: run by path as each xDS worker process (src/xds/workers/pool.ts,
  // `--workers N`), for the command and for library users alike: a process of
  // its own, so it shares no module with the embedding program, and loads as
  // fast as the command does with its dependencies bundled.
  entryPoints: { run: "src/cli/run.ts", "xds-worker": "src/xds/workers/worker-main.ts" },
  outdir: join(dist, "cli"),
  // etcd3 reads its .proto files beside its own sources (__dirname), which a
  // bundle does not have: it stays in node_modules, loaded only by replicas.
  external: ["etcd3"],
  // Bundled CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: 'import { createRequire as __wasmxdsCreateRequire } from "node:module";\nconst require = __wasmxdsCreateRequire(import.meta.url);' },
  // The dependencies' licence comments, kept beside the chunks that carry their code.
  legalComments: "linked",
});
// The web console's page, style sheet and browser script (dist/console/).
await buildConsole(join(dist, "console"));
const jsMs = performance.now() - started;

if (!jsOnly) {
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
  } catch {
    process.stderr.write("build: tsc reported errors (above); dist/ has no trustworthy declarations\n");
    process.exit(1);
  }
  let fixed = 0;
  for (const f of files(dist)) if (f.endsWith(".d.ts")) fixed += addExtensions(f);
  // A complete build; test/package/ensure-built.ts compares the sources with it.
  writeFileSync(join(dist, ".built"), `${new Date().toISOString()}\n`);
  process.stdout.write(`build: dist/ in ${Math.round(performance.now() - started)} ms (JavaScript ${Math.round(jsMs)} ms; ${fixed} declaration imports given extensions)\n`);
} else {
  process.stdout.write(`build: dist/ JavaScript in ${Math.round(jsMs)} ms\n`);
}

/** Rewrites `"./x"` to `"./x.js"` or `"./x/index.js"` in one declaration file; returns how many. */
function addExtensions(file) {
  const text = readFileSync(file, "utf8");
  let count = 0;
  const out = text.replace(/(\bfrom\s*|\bimport\s*\(\s*)(["'])(\.{1,2}\/[^"']*)\2/g, (whole, lead, quote, spec) => {
    if (/\.(js|mjs|cjs|json)$/.test(spec)) return whole;
    const base = resolve(dirname(file), spec);
    const target = existsSync(`${base}.d.ts`) ? `${spec}.js` : existsSync(join(base, "index.d.ts")) ? `${spec}/index.js` : undefined;
    if (!target) throw new Error(`build: ${file}: cannot resolve "${spec}"`);
    count++;
    return `${lead}${quote}${target}${quote}`;
  });
  if (count > 0) writeFileSync(file, out);
  return count;
}

/** Whether the built command is newer than every file it is built from. */
function isCurrent() {
  const built = join(dist, "cli/run.js");
  if (!existsSync(built)) return false;
  const at = statSync(built).mtimeMs;
  const inputs = ["package.json", "scripts/build.mjs", "scripts/build-console.mjs"].map((p) => join(root, p));
  return [...inputs, ...files(join(root, "src"))].every((f) => statSync(f).mtimeMs <= at);
}
