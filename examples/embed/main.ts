/**
 * wasmxds inside another program: a service that runs the control plane on
 * a config folder, with its own logger and addresses, reacts to what the
 * Envoys do (here: prints each NACK), and stops it cleanly on SIGINT or
 * SIGTERM. docs/EMBEDDING.md walks through it.
 *
 *   npm run build                                # once: the package runs from dist/
 *   node --import tsx examples/embed/main.ts config
 *
 * It imports the package by name, as a program that installed it would
 * (here the package resolves itself through its "exports"); no paths into
 * the package's sources.
 */
import { formatHostPort, jsonLogger, parseHostPort, startWasmxds } from "wasmxds";

const configDir = process.argv[2] ?? "config";
const env = (name: string, fallback: string) => process.env[name] ?? fallback;

const app = await startWasmxds({
  configDir,
  // Addresses are validated once, with the name of where they came from in the error.
  xdsAddress: parseHostPort(env("EMBED_XDS_ADDRESS", "127.0.0.1:18000"), "EMBED_XDS_ADDRESS"),
  modulesAddress: parseHostPort(env("EMBED_MODULES_ADDRESS", "127.0.0.1:18002"), "EMBED_MODULES_ADDRESS"),
  adminAddress: null, // no admin HTTP API: this program is the one people talk to
  stateDir: null, // known-good versions and quarantines in memory only
  watch: true, // pick up edits of the config folder and its modules
  logger: jsonLogger(process.stderr, "warn"),
});

// What Envoys do arrives as events; a NACK carries Envoy's own message.
app.xds.events.on((event) => {
  if (event.kind === "nack") console.log(`NACK from ${event.node.id}: ${event.nack.message}`);
});

// Port 0 in an address means "any free port": the running server reports the real ones.
console.log(JSON.stringify({ ready: true, xds: formatHostPort(app.xdsAddress), modules: formatHostPort(app.modulesAddress) }));

// close() ends the streams (waiting up to the shutdown grace) and releases every port.
const stop = async () => {
  await app.close();
  console.log(JSON.stringify({ stopped: true }));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
