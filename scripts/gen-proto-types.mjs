#!/usr/bin/env node
// Regenerates src/generated/ (TypeScript types for the vendored protos) with
// @grpc/proto-loader's proto-loader-gen-types. Run after `npm run protos:vendor`.
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const protos = join(repo, "protos");
const out = join(repo, "src/generated");

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".proto") ? [relative(protos, p)] : [];
  });
}

rmSync(out, { recursive: true, force: true });
execFileSync(
  join(repo, "node_modules/.bin/proto-loader-gen-types"),
  ["--keepCase", "--longs=String", "--enums=String", "--defaults", "--oneofs", "--bytes=Buffer",
   "-I", protos, "--outDir", out, ...walk(protos).filter((f) => !f.startsWith("google/"))],
  { stdio: "inherit" },
);
