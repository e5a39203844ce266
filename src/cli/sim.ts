/**
 * `wasmxds sim`: runs a fleet of simulated Envoys against an xDS server and
 * prints a live summary (redrawn in place on a terminal, one line per
 * interval otherwise), then a final one. See docs/SIMULATOR.md.
 */
import { waitForStop } from "./wait-for-stop";
import { parseArgs } from "node:util";
import { parseDuration } from "../config/duration";
import { WasmxdsError } from "../errors";
import type { LogLevel } from "../logger";
import { formatHostPort, parseHostPort } from "../net/host-port";
import { DEFAULT_XDS_ADDRESS, type FleetSummary, formatSummary, SimFleet, type SimTlsOptions, readSimTlsFiles } from "../sim";
import type { Command } from "./command";
import { cliLogger, paint, type Terminal } from "./output";
import { statSync } from "node:fs";
import { resolve } from "node:path";

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

const OPTIONS = {
  nodes: { type: "string", short: "n", default: "10" },
  "xds-address": { type: "string", multiple: true },
  "id-prefix": { type: "string", default: "sim-" },
  cluster: { type: "string" },
  metadata: { type: "string", multiple: true },
  region: { type: "string" },
  zone: { type: "string" },
  rps: { type: "string", default: "0" },
  "admin-base-port": { type: "string" },
  "metrics-service": { type: "boolean", default: false },
  "flush-interval": { type: "string", default: "5s" },
  "counters-as-deltas": { type: "boolean", default: false },
  "no-wasm": { type: "boolean", default: false },
  "xds-api": { type: "string", default: "sotw" },
  "host-root": { type: "string" },
  ca: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-server-name": { type: "string" },
  duration: { type: "string" },
  interval: { type: "string", default: "1s" },
  "log-level": { type: "string", default: "warn" },
  "log-format": { type: "string" },
} as const;

const USAGE = `Usage: wasmxds sim [options]

Runs simulated Envoys against an xDS server: each node opens one ADS stream,
subscribes as Envoy does (CDS, EDS, LDS, then ECDS and RDS), ACKs or NACKs
in Envoy's words, loads and runs the wasm filters, and can send synthetic
traffic through its listeners.

Options:
  -n, --nodes N                 number of nodes (default 10)
      --xds-address HOST:PORT   the ADS server (default ${DEFAULT_XDS_ADDRESS}); several
                                (repeated or comma-separated, e.g. one per replica):
                                node i connects to the (i mod count)-th
      --id-prefix PREFIX        node ids are PREFIX0, PREFIX1, ... (default sim-)
      --cluster NAME            node.cluster (default wasmxds-sim)
      --metadata KEY=VALUE      node metadata entry (repeatable)
      --region REGION           node.locality.region
      --zone ZONE               node.locality.zone
      --rps N                   requests (or TCP connections) per second per node (default 0)
      --admin-base-port P       node i serves Envoy's admin API (/stats, /ready) on P+i (default off)
      --metrics-service         push stats to envoy.service.metrics.v3.MetricsService on the xDS address
      --flush-interval DURATION stats flush interval for --metrics-service (default 5s)
      --counters-as-deltas      send counters as deltas (report_counters_as_deltas)
      --no-wasm                 do not fetch, compile or run wasm (xDS only, for benchmarks)
      --xds-api sotw|delta      the xDS variant, as Envoy's ads_config api_type GRPC or DELTA_GRPC
                                (envoy/bootstrap-delta.yaml) (default: sotw)
      --host-root DIR           DIR stands for the Envoy hosts' disk: a filter's hostPath
                                (code.local.filename) is read under it (default: read as given);
                                host_env_keys are read from this process's environment
      --ca FILE                 reach the xDS server over TLS, checking its certificate against this PEM CA
      --tls-cert FILE           with --tls-key: each node presents this PEM client certificate (mTLS);
      --tls-key FILE            ADS, --metrics-service and access logs all go over the secured connection
      --tls-server-name NAME    check the server's certificate for NAME instead of the --xds-address host
      --duration DURATION       stop after this long (default: run until Ctrl-C or SIGTERM)
      --interval DURATION       how often to print the summary (default 1s)
      --log-level LEVEL         debug | info | warn | error | silent (default warn)
      --log-format FORMAT       json | pretty (default pretty on a terminal, else json)`;

function usage(message: string): never {
  throw new WasmxdsError("USAGE", message);
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (err) {
    return usage((err as Error).message);
  }
}

function number(flag: string, text: string, opts: { integer?: boolean; min: number; max?: number }): number {
  const n = Number(text);
  const ok = text.trim() !== "" && Number.isFinite(n) && (!opts.integer || Number.isInteger(n)) && n >= opts.min && n <= (opts.max ?? Number.MAX_SAFE_INTEGER);
  if (!ok) usage(`--${flag}: expected ${opts.integer ? "an integer" : "a number"} >= ${opts.min}${opts.max !== undefined ? ` and <= ${opts.max}` : ""}, got ${JSON.stringify(text)}`);
  return n;
}

function duration(flag: string, text: string): number {
  const d = parseDuration(text);
  if ("error" in d) return usage(`--${flag}: ${d.error}`);
  if (d.ms <= 0) usage(`--${flag}: expected a duration above zero, got ${JSON.stringify(text)}`);
  return d.ms;
}

function metadata(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf("=");
    if (eq <= 0) usage(`--metadata: expected KEY=VALUE, got ${JSON.stringify(e)}`);
    out[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return out;
}


function finalReport(term: Terminal, s: FleetSummary, fleet: SimFleet): string {
  const messages = new Map<string, number>();
  for (const n of fleet.nodes) for (const nack of n.nacks()) messages.set(nack.message, (messages.get(nack.message) ?? 0) + 1);
  const lines = [`${paint(term, "bold", "final")}: ${formatSummary(s)}`];
  for (const [message, count] of [...messages].slice(0, 5)) lines.push(`  NACK ×${count}: ${message}`);
  return `${lines.join("\n")}\n`;
}

async function run(argv: string[], term: Terminal, signal: AbortSignal): Promise<number> {
  const v = parse(argv);
  const level = v["log-level"] as LogLevel;
  if (!LEVELS.includes(level)) usage(`--log-level: expected one of ${LEVELS.join(", ")}, got "${level}"`);
  const format = v["log-format"] ?? ((process.stderr as { isTTY?: boolean }).isTTY ? "pretty" : "json");
  if (format !== "json" && format !== "pretty") usage(`--log-format: expected json or pretty, got "${format}"`);
  const nodes = number("nodes", v.nodes, { integer: true, min: 1 });
  const xdsApi = v["xds-api"];
  if (xdsApi !== "sotw" && xdsApi !== "delta") usage(`--xds-api: expected sotw or delta, got "${xdsApi}"`);
  const xds = (v["xds-address"] ?? [DEFAULT_XDS_ADDRESS]).flatMap((a) => a.split(",")).map((a) => parseHostPort(a.trim(), "--xds-address"));
  const adminBase = v["admin-base-port"] === undefined ? undefined : number("admin-base-port", v["admin-base-port"], { integer: true, min: 1, max: 65535 });
  const interval = duration("interval", v.interval);
  const stopAfter = v.duration === undefined ? undefined : duration("duration", v.duration);
  const secured = v.ca !== undefined || v["tls-cert"] !== undefined || v["tls-key"] !== undefined;
  const tls: SimTlsOptions | undefined = secured
    ? { ...readSimTlsFiles({ caFile: v.ca, certFile: v["tls-cert"], keyFile: v["tls-key"] }), serverName: v["tls-server-name"] }
    : undefined;
  if (!secured && v["tls-server-name"] !== undefined) usage("--tls-server-name: only with --ca or --tls-cert/--tls-key");
  const locality = v.region !== undefined || v.zone !== undefined ? { region: v.region, zone: v.zone } : undefined;
  const hostRoot = v["host-root"] === undefined ? undefined : resolve(v["host-root"]);
  if (hostRoot !== undefined && !statSync(hostRoot, { throwIfNoEntry: false })?.isDirectory()) usage(`--host-root: ${hostRoot} is not a directory`);
  const fleet = new SimFleet({
    nodes,
    idPrefix: v["id-prefix"],
    xdsAddresses: xds.map((a) => formatHostPort(a)),
    cluster: v.cluster,
    metadata: metadata(v.metadata ?? []),
    locality,
    adminBasePort: adminBase,
    metricsService: v["metrics-service"] && {
      flushIntervalMs: duration("flush-interval", v["flush-interval"]),
      reportCountersAsDeltas: v["counters-as-deltas"],
    },
    traffic: { rps: number("rps", v.rps, { min: 0 }) },
    wasm: !v["no-wasm"],
    xdsApi,
    // The simulator stands for Envoy, whose host_env_keys come from its own process environment.
    host: { ...(hostRoot !== undefined && { root: hostRoot }), env: process.env },
    tls,
    logger: cliLogger(term, level, format),
  });
  const tty = Boolean((term.out as { isTTY?: boolean }).isTTY);
  try {
    await fleet.start();
  } catch (err) {
    // e.g. an admin port in use: stop the nodes that did start, so the process can exit.
    await fleet.stop();
    throw err;
  }
  const print = () => {
    const line = formatSummary(fleet.summary());
    term.out.write(tty ? `\r\u001b[2K${line}` : `${line}\n`);
  };
  const ticker = setInterval(print, interval);
  let final: FleetSummary;
  try {
    await waitForStop(signal, stopAfter);
  } finally {
    clearInterval(ticker);
    final = fleet.summary();
    await fleet.stop();
  }
  if (tty) term.out.write("\r\u001b[2K");
  term.out.write(finalReport(term, final, fleet));
  return 0;
}

export const simCommand: Command = {
  name: "sim",
  summary: "simulate a fleet of Envoys against an xDS server",
  usage: USAGE,
  run: (argv, term, signal) => run(argv, term, signal),
};
