/**
 * Push fan-out benchmark (issue 8): how fast and how lean wasmxds serves N
 * Envoys, each an xDS client in a separate process from the server.
 *
 *   npm run bench:fanout [-- --nodes 100,1000,10000 --listeners 1,10,100]
 *   npm run bench:quick                       # 100 nodes, 1 and 10 listeners
 *
 * For each N (nodes) and L (listeners, each running the `add-header` wasm
 * filter over ECDS) it starts wasmxds in watch mode on a generated config
 * folder and runs four scenarios (docs/PERFORMANCE.md):
 *   1. connect storm: all N connect at once; per node, the time until it has
 *      ACKed CDS, EDS, ECDS, LDS and RDS;
 *   2. module swap: a new module file is renamed into place; per node, the
 *      time from the watcher's batch flush (the file was stable) to the
 *      node's ACK of the new ECDS version;
 *   3. full change: wasmxds.yaml is rewritten so every listener's stat prefix
 *      and route change; per node, the time to its ACKs of the new LDS and RDS;
 *   4. steady state: server heap and RSS per connected node (minus the same
 *      server with 0 nodes), idle CPU over --idle-seconds.
 * The simulated Envoys (--client) speak ADS over Node's http2 (`h2`, the
 * default: 20-50% less client CPU per node than `grpc` in a storm, half in
 * a swap of remote code, a third with a 17 KB module inline; docs/
 * PERFORMANCE.md "Clients over raw HTTP/2"), over grpc-js channels (`grpc`,
 * the figures before 2026-11-28), or are full SimNodes (`sim`).
 * Each (N, L) runs once per xDS variant in --xds-api (default both:
 * sotw,delta), so the report sets state-of-the-world and delta side by side;
 * the scaling fits and the targets are computed per variant.
 * Results: a table on stdout and bench/results/fanout.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { childFileLimit } from "./fanout/peer";
import { summarizeProfile } from "./fanout/profile";
import { scaling, scalingTable, table, targets } from "./fanout/report";
import { type RunResult, runOnce } from "./fanout/run";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "100,1000,10000" },
    listeners: { type: "string", default: "1,10,100" },
    clients: { type: "string", default: "2" },
    client: { type: "string", default: "h2" },
    "xds-api": { type: "string", default: "sotw,delta" },
    code: { type: "string", default: "auto" },
    swaps: { type: "string", default: "3" },
    changes: { type: "string", default: "2" },
    "idle-seconds": { type: "string", default: "10" },
    "cpu-prof": { type: "boolean", default: false },
    "cpu-prof-clients": { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    // The server's --workers (0: streams in the server's main process, as before workers existed).
    workers: { type: "string", default: "0" },
    out: { type: "string" },
  },
});

const list = (s: string) => s.split(",").map((x) => Number(x.trim().replace(/_/g, "")));
const quick = values.quick;
// A quick run must not overwrite the figures docs/PERFORMANCE.md quotes.
const outFile = values.out ?? join(import.meta.dirname, quick ? "results/fanout-quick.json" : "results/fanout.json");
const nodes = quick ? [100] : list(values.nodes);
const listeners = quick ? [1, 10] : list(values.listeners);
// `xds` was the name of `grpc` before the raw HTTP/2 client existed.
const client = values.client === "xds" ? "grpc" : values.client;
if (client !== "grpc" && client !== "h2" && client !== "sim") throw new Error("--client takes h2, grpc or sim");
const apis = [...new Set(values["xds-api"].split(",").map((s) => s.trim()))];
if (apis.length === 0 || apis.some((a) => a !== "sotw" && a !== "delta")) throw new Error("--xds-api takes sotw, delta or sotw,delta");
const xdsApis = apis as Array<"sotw" | "delta">;
const code = values.code === "inline" || values.code === "remote" ? values.code : "auto";
const options = {
  clientProcesses: Number(values.clients),
  client,
  code,
  swaps: quick ? 2 : Number(values.swaps),
  changes: quick ? 1 : Number(values.changes),
  idleSeconds: quick ? 3 : Number(values["idle-seconds"]),
  workers: Number(values.workers),
} as const;
if ([...nodes, ...listeners].some((n) => !Number.isInteger(n) || n < 1)) throw new Error("--nodes and --listeners take comma-separated positive integers");

const fileLimit = childFileLimit();
const profileDir = values["cpu-prof"] || values["cpu-prof-clients"] ? join(import.meta.dirname, "results/profiles") : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const grpcVersion = (JSON.parse(readFileSync(join(import.meta.dirname, "../node_modules/@grpc/grpc-js/package.json"), "utf8")) as { version: string }).version;
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  os: `${process.platform} ${release()}`,
  node: process.version,
  grpcJs: grpcVersion,
  openFileLimit: fileLimit,
  note: "server and client processes share these cores",
  // Anything else running on the machine competes for the same two cores.
  loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
};
const started = Date.now();
const log = (line: string) => console.log(line);
log(`fan-out: nodes ${nodes.join(", ")} × listeners ${listeners.join(", ")}; ${options.clientProcesses} client process(es) of ${client} nodes; code ${code}`);
log(`${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, open-file limit ${fileLimit}`);

const runs: RunResult[] = [];
const skipped: string[] = [];
for (const n of nodes) {
  // One socket per node in the server, n / clients in each client process, plus Node's own.
  if (n + 256 > fileLimit) {
    skipped.push(`N=${n}: needs about ${n + 256} open files, the hard limit is ${fileLimit} (raise it with ulimit -Hn as root)`);
    log(`skipping N=${n}: open-file limit ${fileLimit}`);
    continue;
  }
  for (const l of listeners) {
    for (const xdsApi of xdsApis) {
      log(`N=${n} L=${l} ${xdsApi}`);
      const t = Date.now();
      const r = await runOnce({ nodes: n, listeners: l, ...options, xdsApi, ...(profileDir && { cpuProfileDir: profileDir, profileClients: values["cpu-prof-clients"] }), log: (s) => log(s) });
      runs.push(r);
      log(`  (${Math.round((Date.now() - t) / 1000)} s)`);
      write();
    }
  }
}

function runsOf(xdsApi: "sotw" | "delta"): RunResult[] {
  return runs.filter((r) => r.xdsApi === xdsApi);
}

function write(): void {
  const result = {
    benchmark: "fanout",
    date: new Date().toISOString(),
    command: `npm run bench:fanout -- ${process.argv.slice(2).join(" ")}`.trim(),
    machine,
    options: { nodes, listeners, xdsApis, ...options },
    clock: "performance.timeOrigin + performance.now() in every process; child offsets measured and subtracted (runs[].clockOffsets)",
    durationSeconds: Math.round((Date.now() - started) / 1000),
    loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
    runs: runs.map((r) => ({
      ...r,
      ...(r.profileFile &&
        r.profileWindows && {
          profile: Object.fromEntries(Object.entries(r.profileWindows).map(([k, w]) => [k, summarizeProfile(r.profileFile as string, w, 12)])),
        }),
    })),
    scaling: scaling(runsOf("sotw")),
    targets: targets(runsOf("sotw")),
    scalingDelta: scaling(runsOf("delta")),
    targetsDelta: targets(runsOf("delta")),
    skipped,
  };
  mkdirSync(join(outFile, ".."), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
}

log("");
log(table([...runs].sort((a, b) => a.nodes - b.nodes || a.listeners - b.listeners || a.xdsApi.localeCompare(b.xdsApi))));
for (const xdsApi of xdsApis) {
  log("");
  log(`${xdsApi}: scaling with N (least-squares line per listener count):`);
  log(scalingTable(scaling(runsOf(xdsApi))));
  log("");
  for (const t of targets(runsOf(xdsApi))) log(`${xdsApi} ${t.met === true ? "MET    " : t.met === false ? "MISSED " : "NOT RUN"} ${t.target}\n        ${t.measured}`);
}
for (const s of skipped) log(`skipped: ${s}`);
log(`\n${Math.round((Date.now() - started) / 1000)} s; results in ${outFile}`);
