/**
 * Start-up cost of the `wasmxds` command as a user feels it: wall time and
 * peak memory (RSS) of `wasmxds --help`, and of `wasmxds serve` on the
 * bundled example (config/) until it logs "wasmxds ready", for the build
 * (bin/wasmxds.js running dist/) against the TypeScript sources run through
 * tsx (what bin/wasmxds.js did before the build).
 *
 *   npm run bench:startup [-- --runs 9 --profile --workers N]
 *
 * Each run is a fresh process; runs of the variants interleave so that a
 * change in the machine's load hits both; the median is reported, with the
 * process's CPU time (user + system, from process.resourceUsage() at exit),
 * which other load on the machine disturbs less than wall time. `serve`
 * binds port 0 everywhere and keeps its state in memory, so the benchmark
 * neither touches config/ nor collides with a running server.
 *
 * --profile also writes a CPU profile (node --cpu-prof) of one start-up
 * through the built library entry (startWasmxds on config/) to
 * bench/results/profiles/, and prints its phases and where its time went.
 * Results: bench/results/startup.json; docs/PERFORMANCE.md, "Start-up".
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatSummary, summarizeProfile } from "./fanout/profile";

// --workers N: serve's --workers (unset: its default, one xDS worker per core).
const { values } = parseArgs({ options: { runs: { type: "string", default: "9" }, profile: { type: "boolean", default: false }, workers: { type: "string" } } });
const runs = Number(values.runs);
const root = join(import.meta.dirname, "..");
const TARGET_MS = { help: 300, serve: 500 } as const;

type Scenario = keyof typeof TARGET_MS;
type Variant = "built" | "tsx";

/** How each variant starts the command. */
const COMMAND: Record<Variant, string[]> = {
  built: [join(root, "bin/wasmxds.js")],
  tsx: ["--import", "tsx", join(root, "src/cli/run.ts")],
};

const ARGS: Record<Scenario, string[]> = {
  help: ["--help"],
  serve: [
    "serve",
    "--config",
    join(root, "config"),
    "--xds-address",
    "127.0.0.1:0",
    "--modules-address",
    "127.0.0.1:0",
    "--admin-address",
    "127.0.0.1:0",
    "--state-dir",
    "off",
    "--log-format",
    "json",
    "--shutdown-grace",
    "0",
    ...(values.workers !== undefined ? ["--workers", values.workers] : []),
  ],
};

interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
}

const work = mkdtempSync(join(tmpdir(), "wasmxds-startup-"));
// Loaded into each measured process (before the command): reports its own resource usage at exit.
const probe = join(work, "probe.mjs");
writeFileSync(
  probe,
  `import { writeFileSync } from "node:fs";
process.on("exit", () => {
  const u = process.resourceUsage();
  writeFileSync(process.env.WASMXDS_BENCH_USAGE, JSON.stringify({ maxRssKb: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime }));
});
`,
);

/** Runs one process; for `serve`, the wall time ends at the ready line and the process is then stopped. */
function measure(variant: Variant, scenario: Scenario, extraNodeArgs: string[] = []): Promise<Sample> {
  const usageFile = join(work, `usage-${variant}-${scenario}.json`);
  rmSync(usageFile, { force: true });
  const started = performance.now();
  const child = spawn(process.execPath, [...extraNodeArgs, "--import", probe, ...COMMAND[variant], ...ARGS[scenario]], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", WASMXDS_BENCH_USAGE: usageFile },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let wallMs: number | undefined;
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    if (scenario === "serve" && wallMs === undefined && stderr.includes('"msg":"wasmxds ready"')) {
      wallMs = performance.now() - started;
      child.kill("SIGTERM");
    }
  });
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => {
      if (scenario === "help") wallMs = performance.now() - started;
      if (wallMs === undefined || (scenario === "help" && code !== 0)) {
        reject(new Error(`${variant} ${scenario}: exited with ${code} before it was ready:\n${stderr}`));
        return;
      }
      const usage = JSON.parse(readFileSync(usageFile, "utf8")) as { maxRssKb: number; cpuUs: number };
      resolve({ wallMs, cpuMs: usage.cpuUs / 1000, maxRssMb: usage.maxRssKb / 1024 });
    });
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const samples = new Map<string, Sample[]>();
const key = (v: Variant, s: Scenario) => `${v} ${s}`;
console.log(`start-up: ${runs} runs each, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)}`);
// One warm-up run of each, not counted: the first reads every file from disk.
for (const scenario of ["help", "serve"] as const) for (const variant of ["built", "tsx"] as const) await measure(variant, scenario);
for (let i = 0; i < runs; i++) {
  for (const scenario of ["help", "serve"] as const) {
    for (const variant of ["built", "tsx"] as const) {
      const list = samples.get(key(variant, scenario)) ?? [];
      list.push(await measure(variant, scenario));
      samples.set(key(variant, scenario), list);
    }
  }
}

const rows: Array<Record<string, string | number | boolean>> = [];
for (const scenario of ["help", "serve"] as const) {
  for (const variant of ["built", "tsx"] as const) {
    const list = samples.get(key(variant, scenario))!;
    const wall = median(list.map((s) => s.wallMs));
    rows.push({
      scenario: scenario === "help" ? "wasmxds --help" : "wasmxds serve until ready",
      variant: variant === "built" ? "built (dist/)" : "sources via tsx",
      wallMs: Math.round(wall),
      minWallMs: Math.round(Math.min(...list.map((s) => s.wallMs))),
      cpuMs: Math.round(median(list.map((s) => s.cpuMs))),
      maxRssMb: Math.round(median(list.map((s) => s.maxRssMb))),
      targetMs: TARGET_MS[scenario],
      met: wall < TARGET_MS[scenario],
    });
  }
}
console.table(rows);
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(
  join(root, "bench/results/startup.json"),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverage: loadavg()[0], runs, rows }, null, 2)}\n`,
);

if (values.profile) {
  // The library entry (dist/index.js) leaves the dependencies external, so the profile can
  // attribute time to each package; the command bundles them into one chunk, which it cannot.
  const dir = join(root, "bench/results/profiles");
  mkdirSync(dir, { recursive: true });
  const script = join(work, "profile-serve.mjs");
  writeFileSync(
    script,
    `const t0 = performance.now();
const { startWasmxds, silentLogger } = await import(${JSON.stringify(join(root, "dist/index.js"))});
const t1 = performance.now();
const app = await startWasmxds({ configDir: ${JSON.stringify(join(root, "config"))}, xdsAddress: { host: "127.0.0.1", port: 0 },
  modulesAddress: { host: "127.0.0.1", port: 0 }, adminAddress: { host: "127.0.0.1", port: 0 }, stateDir: null, watch: false, logger: silentLogger });
const t2 = performance.now();
console.log(JSON.stringify({ nodeBootMs: t0, importMs: t1 - t0, startMs: t2 - t1 }));
await app.close(0);
`,
  );
  const before = new Set(readdirSync(dir));
  const phases = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, script], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`profile run exited with ${code}`))));
  });
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile") && !before.has(f));
  const p = JSON.parse(phases) as { nodeBootMs: number; importMs: number; startMs: number };
  console.log(
    `\nOne start-up through the library entry: Node ${Math.round(p.nodeBootMs)} ms, importing wasmxds ${Math.round(p.importMs)} ms, startWasmxds ${Math.round(p.startMs)} ms`,
  );
  if (file) {
    console.log(`CPU profile: bench/results/profiles/${file}`);
    console.log(formatSummary(summarizeProfile(join(dir, file), undefined, 15, ["loadSync", "startWasmxds", "encodeMessage", "preflight"])));
  }
}
rmSync(work, { recursive: true, force: true });
