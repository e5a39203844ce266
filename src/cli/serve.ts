/**
 * `wasmxds serve` and `wasmxds dev`: run the control plane on a config folder
 * until SIGINT/SIGTERM (or the abort signal), then shut down cleanly: open
 * streams get --shutdown-grace to go, then every connection is closed and
 * the command returns 0. The signal handlers are installed before anything
 * starts, so a signal during start-up also ends in a clean exit.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { ADMIN_AUTH_SCOPES, type AdminAuthScope } from "../admin/admin-auth";
import { resolveAdminToken } from "../admin/admin-token";
import { parseDuration } from "../config/duration";
import { WasmxdsError } from "../errors";
import type { LogLevel } from "../logger";
import { DEFAULT_ADDRESSES, DEFAULT_SHUTDOWN_GRACE_MS, type RunningWasmxds, startWasmxds } from "../main";
import { DEFAULT_MAX_CONNECTIONS_PER_ADDRESS } from "../net/grpc-server";
import { parseHostPort } from "../net/host-port";
import { parseNodeIdentityMode } from "../net/node-identity";
import { warmPreflightWorker } from "../wasm/preflight";
import { CLUSTER_OPTIONS, CLUSTER_USAGE, parseClusterFlags } from "./cluster-flags";
import type { Command } from "./command";
import { DevOutput } from "./dev-output";
import { cliLogger } from "./output";
import { stopSignal } from "./wait-for-stop";

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

const OPTIONS = {
  config: { type: "string", short: "c", default: "config" },
  "xds-address": { type: "string", default: DEFAULT_ADDRESSES.xds },
  "modules-address": { type: "string", default: DEFAULT_ADDRESSES.modules },
  "admin-address": { type: "string", default: DEFAULT_ADDRESSES.admin },
  "admin-token-file": { type: "string" },
  "admin-auth": { type: "string", default: "writes" },
  "admin-insecure": { type: "boolean", default: false },
  "state-dir": { type: "string" },
  watch: { type: "boolean", default: false },
  "oci-poll-interval": { type: "string" },
  "allow-empty": { type: "boolean", default: false },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  "shutdown-grace": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "client-ca": { type: "string" },
  "node-identity": { type: "string", default: "off" },
  ...CLUSTER_OPTIONS,
  "max-connections-per-address": { type: "string" },
  workers: { type: "string" },
  "modules-tls": { type: "boolean", default: false },
  "modules-ca": { type: "string" },
} as const;

const USAGE = `Usage: wasmxds serve [options]

Serves the Envoy configuration described by <config>/wasmxds.yaml over ADS.

Options:
  -c, --config DIR              config folder (default: config)
      --xds-address HOST:PORT   gRPC ADS address (default: ${DEFAULT_ADDRESSES.xds})
      --modules-address HOST:PORT
                                module server address (default: ${DEFAULT_ADDRESSES.modules})
      --admin-address HOST:PORT admin HTTP API address, or "off" (default: ${DEFAULT_ADDRESSES.admin})
      --admin-token-file FILE   mutating admin calls need 'Authorization: Bearer <token>'
                                with the token in FILE, read once at start (or set
                                WASMXDS_ADMIN_TOKEN)
      --admin-auth writes|reads which admin calls need the token (default: writes)
      --admin-insecure          allow a non-loopback --admin-address without a token
      --state-dir DIR           where known-good versions, quarantines and modules
                                persist, or "off" (default: <config>/.wasmxds)
      --watch                   reload when the YAML or a module changes
      --oci-poll-interval DURATION
                                with --watch, how often oci:// tags pulled with
                                pullPolicy: Always are re-resolved (default: 60s, at least 1s)
      --log-level LEVEL         debug | info | warn | error | silent
                                (default: info; silent for dev, which prints event lines)
      --log-format FORMAT       json | pretty (default: pretty on a terminal, else json)
      --allow-empty             publish a version that removes every listener or cluster,
                                or more than half of 4 or more (otherwise refused as a
                                likely half-written save; or set server.allowEmpty)
      --shutdown-grace DURATION on SIGINT/SIGTERM, how long open streams get to end
                                before every connection is closed: 5s, 500ms, or 0
                                for at once (default: 5s)
      --tls-cert FILE --tls-key FILE
                                serve xDS, the metrics and access log services over
                                TLS; the files are re-read when they change
      --client-ca FILE          require client certificates signed by this CA (mTLS)
      --node-identity off|cn|san-dns|san-uri
                                the client certificate field a node id must equal
                                (san-uri for SPIFFE; needs --client-ca; default: off)
      --max-connections-per-address N
                                connections one client address may hold on the gRPC
                                port; more are closed at once (default: ${DEFAULT_MAX_CONNECTIONS_PER_ADDRESS};
                                0: no limit, e.g. behind a proxy that hides addresses)
      --workers N               processes that hold the Envoys' xDS connections and
                                streams, fed by this one, which decides (docs/WORKERS.md);
                                0: the streams run in this process (default: the
                                number of cores, ${defaultWorkers()} here; dev: 0)
      --modules-tls             serve modules over https with --tls-cert/--tls-key
                                (remote code URIs and the wasmxds_modules cluster use TLS)
      --modules-ca FILE         the CA Envoys verify the module server with (sent
                                inline in the cluster, with the host as SAN to match);
                                without it Envoys encrypt but do not verify`;

/** `--modules-tls`, `--modules-ca` (SECURITY.md, "Module server"). */
function parseModulesTls(v: { "modules-tls": boolean; "modules-ca"?: string }): { modulesTls?: { caFile?: string } } {
  const ca = v["modules-ca"];
  if (ca !== undefined && !v["modules-tls"]) throw new WasmxdsError("USAGE", "--modules-ca needs --modules-tls (it is the CA Envoys verify the https module server with)");
  return v["modules-tls"] ? { modulesTls: ca === undefined ? {} : { caFile: ca } } : {};
}

/** `--workers` unset: the number of cores (issue 18); `dev` runs the streams itself. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/** A whole number of at least 0, else a usage error naming the flag. */
function parseCount(text: string, flag: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new WasmxdsError("USAGE", `${flag}: expected a whole number (0 for no limit), got "${text}"`);
  return Number(text);
}

/** `--workers N`: 0 to 256. */
function parseWorkers(text: string): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) > 256) throw new WasmxdsError("USAGE", `--workers: expected a whole number from 0 to 256 (0: the streams run in the main process), got "${text}"`);
  return Number(text);
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (err) {
    throw new WasmxdsError("USAGE", (err as Error).message);
  }
}

async function run(argv: string[], term: Parameters<Command["run"]>[1], signal: AbortSignal, dev: boolean): Promise<number> {
  const v = parse(argv);
  // `dev` prints its own event lines; its log is off unless asked for.
  const level = (v["log-level"] ?? (dev ? "silent" : "info")) as LogLevel;
  if (!LEVELS.includes(level)) throw new WasmxdsError("USAGE", `--log-level: expected one of ${LEVELS.join(", ")}, got "${level}"`);
  const format = v["log-format"] ?? ((process.stderr as { isTTY?: boolean }).isTTY ? "pretty" : "json");
  if (format !== "json" && format !== "pretty") throw new WasmxdsError("USAGE", `--log-format: expected json or pretty, got "${format}"`);
  const graceMs = parseGrace(v["shutdown-grace"]);
  const adminAccess = parseAdminAccess(v);
  const cluster = parseClusterFlags(v);
  // Before anything listens: a signal from now on ends in a clean shutdown.
  const stop = stopSignal(signal);
  const logger = cliLogger(term, level, format);
  // The worker thread starts (tens of ms) while this thread reads the config;
  // otherwise the first pre-flight check would wait for it (docs/PERFORMANCE.md, "Start-up").
  warmPreflightWorker();
  let app: RunningWasmxds;
  try {
    app = await startWasmxds({
      configDir: v.config,
      xdsAddress: parseHostPort(v["xds-address"], "--xds-address"),
      modulesAddress: parseHostPort(v["modules-address"], "--modules-address"),
      adminAddress: v["admin-address"] === "off" ? null : parseHostPort(v["admin-address"], "--admin-address"),
      adminAccess,
      stateDir: v["state-dir"] === "off" ? null : v["state-dir"],
      watch: dev || v.watch,
      logger,
      ...(dev && { dev, observer: new DevOutput(term) }),
      allowEmpty: v["allow-empty"],
      shutdownGraceMs: graceMs,
      ...parseTls(v),
      ...(cluster && { cluster }),
      ...parseModulesTls(v),
      ...(v["oci-poll-interval"] !== undefined && { oci: { pollIntervalMs: parsePollInterval(v["oci-poll-interval"]) } }),
      ...(v["max-connections-per-address"] !== undefined && {
        maxConnectionsPerAddress: parseCount(v["max-connections-per-address"], "--max-connections-per-address"),
      }),
      workers: v.workers !== undefined ? parseWorkers(v.workers) : dev ? 0 : defaultWorkers(),
    });
  } catch (err) {
    stop.dispose();
    throw err;
  }
  if (stop.stopped) logger.info("signalled during start-up; stopping");
  await stop.promise;
  logger.info("shutting down", { graceMs });
  await app.close(graceMs);
  logger.info("stopped");
  return 0;
}

/** `--admin-token-file` (else WASMXDS_ADMIN_TOKEN), `--admin-auth`, `--admin-insecure` (SECURITY.md, "Admin API"). */
function parseAdminAccess(v: ReturnType<typeof parse>) {
  const auth = v["admin-auth"] as AdminAuthScope;
  if (!ADMIN_AUTH_SCOPES.includes(auth)) throw new WasmxdsError("USAGE", `--admin-auth: expected writes or reads, got "${auth}"`);
  const token = resolveAdminToken(v["admin-token-file"]);
  if (auth === "reads" && token === undefined) throw new WasmxdsError("USAGE", "--admin-auth reads needs a token: set --admin-token-file FILE or WASMXDS_ADMIN_TOKEN");
  return { auth, insecure: v["admin-insecure"], ...(token !== undefined && { token }) };
}

/** `--tls-cert`, `--tls-key`, `--client-ca`, `--node-identity` (SECURITY.md, "TLS and node identity"). */
function parseTls(v: ReturnType<typeof parse>) {
  const nodeIdentity = parseNodeIdentityMode(v["node-identity"], "--node-identity");
  const cert = v["tls-cert"];
  const key = v["tls-key"];
  const ca = v["client-ca"];
  if ((cert === undefined) !== (key === undefined)) throw new WasmxdsError("USAGE", "--tls-cert and --tls-key go together: give both or neither");
  if (ca !== undefined && cert === undefined) throw new WasmxdsError("USAGE", "--client-ca needs --tls-cert and --tls-key (mTLS runs over TLS)");
  if (nodeIdentity !== "off" && ca === undefined) throw new WasmxdsError("USAGE", `--node-identity ${nodeIdentity} needs --client-ca: node ids are checked against client certificates`);
  const tls = cert !== undefined && key !== undefined ? { certFile: cert, keyFile: key, ...(ca !== undefined && { clientCaFile: ca }) } : undefined;
  return { nodeIdentity, ...(tls && { tls }) };
}

/** `--oci-poll-interval` (docs/OCI.md): a duration of at least 1s, so a registry is not asked in a tight loop. */
function parsePollInterval(text: string): number {
  const d = parseDuration(text);
  if ("error" in d) throw new WasmxdsError("USAGE", `--oci-poll-interval: ${d.error}`);
  if (d.ms < 1000) throw new WasmxdsError("USAGE", `--oci-poll-interval: expected at least 1s, got "${text}"`);
  return d.ms;
}

function parseGrace(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SHUTDOWN_GRACE_MS;
  if (text === "0") return 0;
  const d = parseDuration(text);
  if ("error" in d) throw new WasmxdsError("USAGE", `--shutdown-grace: ${d.error}`);
  return d.ms;
}


export const serveCommand: Command = {
  name: "serve",
  summary: "serve a config folder to Envoys over ADS",
  usage: USAGE + CLUSTER_USAGE,
  run: (argv, term, signal) => run(argv, term, signal, false),
};

export const devCommand: Command = {
  name: "dev",
  summary: "serve and watch a config folder, with one line per event",
  usage: USAGE.replace("wasmxds serve", "wasmxds dev").replace("      --watch                   reload when the YAML or a module changes\n", ""),
  run: (argv, term, signal) => run(argv, term, signal, true),
};
