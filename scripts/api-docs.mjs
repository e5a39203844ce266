#!/usr/bin/env node
// API documentation from the doc comments of the package's public entries
// (the "exports" map: wasmxds, wasmxds/cache, wasmxds/xds, wasmxds/sim), as
// HTML in docs/api/ (not committed; open docs/api/index.html).
//
//   npm run docs:api
//
// TypeDoc 0.28 needs TypeScript's compiler API, which TypeScript 7 (the
// project's tsc, a native compiler) does not have, and a TypeScript 6 beside
// TypeScript 7 in the project's own dependencies is a peer conflict npm
// refuses. So TypeDoc and TypeScript 6.0 are the devDependencies of a package
// of their own, scripts/api-docs/ (pinned, with its lockfile), installed on
// first use with `npm ci`. Warnings (a broken {@link}, an exported type the
// docs cannot reach) fail the run.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const tool = join(root, "scripts/api-docs");
const typedoc = join(tool, "node_modules/typedoc/bin/typedoc");

// Installed once per lockfile: node_modules remembers the hash of the lockfile it came from.
const lockHash = createHash("sha256").update(readFileSync(join(tool, "package-lock.json"))).digest("hex");
const marker = join(tool, "node_modules/.installed-from");
if (!existsSync(typedoc) || !existsSync(marker) || readFileSync(marker, "utf8") !== lockHash) {
  execFileSync("npm", ["ci", "--prefix", tool, "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  writeFileSync(marker, lockHash);
}

execFileSync(
  process.execPath,
  [
    typedoc,
    "--tsconfig", join(root, "tsconfig.json"),
    "--entryPoints", "src/index.ts",
    "--entryPoints", "src/cache/index.ts",
    "--entryPoints", "src/xds/index.ts",
    "--entryPoints", "src/sim/index.ts",
    "--out", join(root, "docs/api"),
    "--name", "wasmxds",
    "--readme", "none",
    "--excludePrivate",
    "--excludeInternal",
    "--sort", "kind", "--sort", "alphabetical",
    // The type check is tsc's (npm test); TypeScript 6 infers a few things TypeScript 7 does not.
    "--skipErrorChecking",
    // No public repository to link source lines to.
    "--disableSources",
    // RunningWasmxds hands out the running parts (publisher, health monitor, ...), whose
    // classes are not exports of their own: documented by name, not as pages.
    "--validation.notExported", "false",
    "--treatWarningsAsErrors",
  ],
  { cwd: root, stdio: "inherit" },
);
