#!/usr/bin/env node
// Builds the proxy-wasm modules in modules-src/ with the local AssemblyScript
// compiler (asc from the assemblyscript devDependency).
//
//   node scripts/build-modules.mjs [--out-examples DIR] [--out-fixtures DIR] [--only name,...] [--jobs N]
//
// modules-src/modules.json lists the modules: modules-src/<name>/index.ts is
// built into <DIR>/<name>.wasm, where DIR is --out-examples (default
// config/modules/) for "out": "examples" and --out-fixtures (default
// test/fixtures/modules/) for "out": "fixtures". Compiler options come from
// modules-src/asconfig.json. Builds run in parallel (--jobs, default 2) in a
// temporary directory and a module is copied to its output only when it
// compiled. Prints one line per module built; if any build fails, prints
// asc's output for it and exits 1. The same sources always give the same bytes
// (test/modules-src/modules.test.ts checks the committed binaries against a rebuild).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const srcDir = join(repo, "modules-src");
const ascBin = join(repo, "node_modules/assemblyscript/bin/asc");
// Folders under modules-src/ that hold shared code, not modules.
const SHARED_DIRS = new Set(["common"]);

const USAGE =
  "usage: node scripts/build-modules.mjs [--out-examples DIR] [--out-fixtures DIR] [--only name,...] [--jobs N]";

function fail(message, code = 2) {
  process.stderr.write(`build-modules: ${message}\n`);
  process.exit(code);
}

function parseCli() {
  try {
    const { values } = parseArgs({
      options: {
        "out-examples": { type: "string", default: "config/modules" },
        "out-fixtures": { type: "string", default: "test/fixtures/modules" },
        only: { type: "string" },
        jobs: { type: "string", default: "2" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const jobs = Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) fail(`--jobs must be a positive integer\n${USAGE}`);
    return {
      outDirs: { examples: resolve(values["out-examples"]), fixtures: resolve(values["out-fixtures"]) },
      only: values.only === undefined ? undefined : values.only.split(",").map((n) => n.trim()).filter(Boolean),
      jobs,
    };
  } catch (err) {
    return fail(`${err.message}\n${USAGE}`);
  }
}

function loadManifest() {
  const manifest = JSON.parse(readFileSync(join(srcDir, "modules.json"), "utf8"));
  const listed = new Set();
  for (const m of manifest.modules) {
    if (m.out !== "examples" && m.out !== "fixtures") fail(`module ${m.name}: "out" must be examples or fixtures`);
    if (!existsSync(join(srcDir, m.name, "index.ts"))) fail(`module ${m.name}: modules-src/${m.name}/index.ts is missing`);
    listed.add(m.name);
  }
  for (const entry of readdirSync(srcDir, { withFileTypes: true })) {
    if (entry.isDirectory() && !SHARED_DIRS.has(entry.name) && !listed.has(entry.name)) {
      fail(`modules-src/${entry.name}/ is not listed in modules-src/modules.json`);
    }
  }
  return manifest.modules;
}

// Runs asc for one module; resolves with { ok, output, ms }.
function compile(name, outFile) {
  const args = [
    ascBin,
    `modules-src/${name}/index.ts`,
    "--config",
    "modules-src/asconfig.json",
    "--binaryFile",
    outFile,
    "--noColors",
  ];
  const started = Date.now();
  return new Promise((resolvePromise) => {
    // cwd is the repository so that the file names asc embeds (in abort
    // messages) are relative and the output does not depend on the checkout path.
    const child = spawn(process.execPath, args, { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("error", (err) => resolvePromise({ ok: false, output: String(err), ms: Date.now() - started }));
    child.on("close", (code, signal) => {
      const ok = code === 0 && existsSync(outFile);
      const why = ok ? "" : `\nasc exited with ${signal ?? `code ${code}`}`;
      resolvePromise({ ok, output: output + why, ms: Date.now() - started });
    });
  });
}

async function main() {
  const { outDirs, only, jobs } = parseCli();
  if (!existsSync(ascBin)) fail(`${relative(repo, ascBin)} not found; run npm install`);
  let modules = loadManifest();
  if (only !== undefined) {
    const known = new Set(modules.map((m) => m.name));
    const unknown = only.filter((n) => !known.has(n));
    if (unknown.length > 0) fail(`unknown module(s) in --only: ${unknown.join(", ")}`);
    modules = modules.filter((m) => only.includes(m.name));
  }

  const tmp = mkdtempSync(join(tmpdir(), "wasmxds-modules-"));
  const failures = [];
  const queue = [...modules];
  async function worker() {
    for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
      const tmpFile = join(tmp, `${m.name}.wasm`);
      const result = await compile(m.name, tmpFile);
      if (!result.ok) {
        failures.push({ name: m.name, output: result.output.trim() });
        continue;
      }
      const bytes = readFileSync(tmpFile);
      const dest = join(outDirs[m.out], `${m.name}.wasm`);
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, bytes);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const seconds = (result.ms / 1000).toFixed(1);
      process.stdout.write(
        `built ${m.name} -> ${relative(process.cwd(), dest)} (${bytes.length} bytes, sha256 ${sha256}, ${seconds}s)\n`,
      );
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, modules.length) }, worker));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    for (const f of failures) process.stderr.write(`build-modules: ${f.name} failed:\n${f.output}\n`);
    process.exit(1);
  }
}

await main();
