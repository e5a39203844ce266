/**
 * The built `wasmxds` command (bin/wasmxds.js -> dist/): starts without the
 * TypeScript toolchain, loads a command only when it runs, and needs nothing
 * at run time beyond the package's dependencies.
 *
 * Regression tests: `--help` used to import every command, the server and the
 * simulator included (1.9 s); bin/wasmxds.js ran the sources through tsx and
 * the pre-flight worker registered tsx again; tsx and @grpc/proto-loader were
 * runtime dependencies.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/main";
import { type CliProcess, startCli } from "../helpers/cli-process";
import { ensureBuilt, ROOT } from "./ensure-built";

const run = promisify(execFile);
const BIN = join(ROOT, "bin/wasmxds.js");
const TRACER = join(ROOT, "test/package/fixtures/trace-imports.mjs");
const work = mkdtempSync(join(tmpdir(), "wasmxds-command-"));

/** Runs node with the import tracer; returns the module URLs it loaded. */
async function loadedModules(nodeArgs: string[]): Promise<string[]> {
  const trace = join(work, `trace-${Math.random().toString(36).slice(2)}.txt`);
  await run(process.execPath, ["--import", TRACER, ...nodeArgs], { cwd: ROOT, env: { ...process.env, WASMXDS_TRACE: trace } });
  return [...new Set(readFileSync(trace, "utf8").split("\n").filter(Boolean))];
}

function* jsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* jsFiles(p);
    else if (p.endsWith(".js")) yield p;
  }
}

/** Package names a built file imports or requires by a literal specifier (relative ones and node builtins left out). */
function bareImports(file: string): Set<string> {
  const text = readFileSync(file, "utf8");
  const names = new Set<string>();
  const builtins = new Set(builtinModules);
  const patterns = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']/gm, // import/export ... from "x" (esbuild puts one per line)
    /^\s*import\s*["']([^"']+)["']/gm, // import "x"
    /\bimport\(\s*["']([^"']+)["']\s*\)/g, // import("x")
    /\b(?:__)?require\d*\(\s*["']([^"']+)["']\s*\)/g, // require("x"), esbuild's __require("x")
  ];
  for (const m of patterns.flatMap((re) => [...text.matchAll(re)])) {
    const spec = m[1]!;
    if (spec.startsWith(".") || spec.startsWith("/")) continue;
    if (spec.startsWith("node:") || builtins.has(spec) || builtins.has(spec.split("/")[0]!)) continue;
    names.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
  }
  return names;
}

beforeAll(() => ensureBuilt(), 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("wasmxds --help", () => {
  it("from the build loads only the command table: no command, no dependency", async () => {
    const urls = await loadedModules([BIN, "--help"]);
    const files = urls.filter((u) => u.startsWith("file:")).map((u) => fileURLToPath(u));
    expect(files.some((f) => f.endsWith("dist/cli/run.js"))).toBe(true);
    expect(files.filter((f) => f.includes("node_modules"))).toEqual([]);
    expect(files.filter((f) => /\/chunks\/(serve|sim|status|rollout)-/.test(f))).toEqual([]);
    // The server and its dependencies are over a megabyte of JavaScript; the help path is a few kilobytes.
    const bytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
    expect(bytes).toBeLessThan(100_000);
  });

  it("from the sources imports neither the server, the simulator nor any command module", async () => {
    const urls = await loadedModules(["--import", "tsx", join(ROOT, "src/cli/run.ts"), "--help"]);
    const loaded = urls.filter((u) => u.startsWith("file:")).map((u) => fileURLToPath(u).slice(ROOT.length + 1));
    expect(loaded).toContain("src/cli/main.ts");
    expect(loaded.filter((f) => f === "src/main.ts" || f.startsWith("src/sim/") || /^src\/cli\/(serve|sim|status|rollout)\.ts$/.test(f))).toEqual([]);
    // tsx transforms the sources with esbuild; nothing else from node_modules.
    expect(loaded.filter((f) => f.startsWith("node_modules/") && !/^node_modules\/(tsx|esbuild)\//.test(f))).toEqual([]);
  });

  it("lists each command with the summary its module gives", async () => {
    for (const entry of COMMANDS) expect((await entry.load()).summary).toBe(entry.summary);
    const { stdout } = await run(process.execPath, [BIN, "--help"]);
    for (const entry of COMMANDS) expect(stdout).toContain(`${entry.name}`);
  });

  it("`<command> --help` loads that command and prints its usage", async () => {
    const { stdout } = await run(process.execPath, [BIN, "serve", "--help"]);
    expect(stdout).toContain("Usage: wasmxds serve [options]");
  });
});

describe("the built package at run time", () => {
  it("imports only its dependencies and Node's own modules; the command bundles even those but etcd3, imported only by replicas", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    const dependencies = new Set(Object.keys(pkg.dependencies));
    expect(dependencies.has("tsx")).toBe(false);
    expect(dependencies.has("@grpc/proto-loader")).toBe(false);
    const outside: string[] = [];
    const fromCommand: string[] = [];
    for (const file of jsFiles(join(ROOT, "dist"))) {
      for (const name of bareImports(file)) {
        if (!dependencies.has(name)) outside.push(`${file}: ${name}`);
        // etcd3 finds its .proto files beside its own sources, so it cannot be bundled (scripts/build.mjs).
        if (file.includes("/dist/cli/") && name !== "etcd3") fromCommand.push(`${file}: ${name}`);
      }
    }
    expect(outside).toEqual([]);
    expect(fromCommand).toEqual([]);
    // And only on demand: a serve without --etcd-endpoints never loads it (about 190 ms).
    const staticEtcd = [...jsFiles(join(ROOT, "dist", "cli"))].filter((f) => /^\s*import\b[^;'"]*?\bfrom\s*["']etcd3["']/m.test(readFileSync(f, "utf8")));
    expect(staticEtcd).toEqual([]);
  });

  it("serve on the bundled example gets ready, its pre-flight worker running built JavaScript", async () => {
    let cli: CliProcess | undefined;
    try {
      cli = startCli(
        ["serve", "--config", join(ROOT, "config"), "--xds-address", "127.0.0.1:0", "--modules-address", "127.0.0.1:0", "--admin-address", "off", "--state-dir", "off"],
        {},
        BIN,
      );
      await cli.waitFor((l) => l.msg === "wasmxds ready", 30_000);
      // Every filter passed the pre-flight check, which runs in the worker thread.
      expect(cli.lines.filter((l) => l.msg === "pre-flight passed").length).toBeGreaterThan(0);
      expect(cli.lines.filter((l) => l.msg === "pre-flight failed")).toEqual([]);
      expect(await cli.stop()).toBe(0);
    } finally {
      await cli?.stop();
    }
  });

  it("bin/wasmxds.js says how to build when dist/ is missing", async () => {
    // A copy of bin/ beside an empty folder in place of the package.
    const fake = mkdtempSync(join(tmpdir(), "wasmxds-nodist-"));
    try {
      cpSync(join(ROOT, "bin"), join(fake, "bin"), { recursive: true });
      const err = await run(process.execPath, [join(fake, "bin/wasmxds.js"), "--help"]).then(
        () => undefined,
        (e: { code: number; stderr: string }) => e,
      );
      expect(err?.code).toBe(1);
      expect(err?.stderr).toContain("npm run build");
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });
});
