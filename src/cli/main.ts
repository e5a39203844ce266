/**
 * `wasmxds <command>`: parses arguments and hands off to a command. Returns
 * the process exit code; never calls process.exit itself so tests can run it.
 *
 * Commands load lazily: the table below holds what `wasmxds --help` prints,
 * and a command's module (with the server, the simulator or the admin
 * client behind it) is imported only when that command runs or its own
 * `--help` is asked for, where its usage text lives beside the options it
 * parses. `wasmxds --help` so costs Node's start-up and little else
 * (docs/PERFORMANCE.md, "Start-up").
 */
import { WasmxdsError, errorMessage } from "../errors";
import type { Command } from "./command";
import { type Terminal, paint, processTerminal } from "./output";

export type { Command } from "./command";

/** A command as the top-level help lists it; `load` imports its module. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

const VERSION = "0.1.0";

/** Summaries repeat the commands' own (a test keeps them equal). */
export const COMMANDS: readonly CommandEntry[] = [
  { name: "serve", summary: "serve a config folder to Envoys over ADS", load: async () => (await import("./serve")).serveCommand },
  { name: "dev", summary: "serve and watch a config folder, with one line per event", load: async () => (await import("./serve")).devCommand },
  { name: "sim", summary: "simulate a fleet of Envoys against an xDS server", load: async () => (await import("./sim")).simCommand },
  { name: "status", summary: "show filters, nodes and recent events of a running server", load: async () => (await import("./status")).statusCommand },
  { name: "rollout", summary: "show and steer fleet rollouts of filter versions", load: async () => (await import("./rollout")).rolloutCommand },
  { name: "explain", summary: "show which version of each filter a node receives, and why", load: async () => (await import("./explain")).explainCommand },
  { name: "import", summary: "convert Istio WasmPlugins and EnvoyFilters into wasmxds filters", load: async () => (await import("./import")).importCommand },
];

export async function main(argv: string[], term: Terminal = processTerminal(), signal?: AbortSignal): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    term.out.write(helpText());
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-v") {
    term.out.write(`wasmxds ${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    term.err.write(`wasmxds: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    term.out.write(`${command.usage}\n`);
    return 0;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  signal?.addEventListener("abort", stop);
  try {
    return await command.run(rest, term, controller.signal);
  } catch (err) {
    const code = err instanceof WasmxdsError ? ` [${err.code}]` : "";
    term.err.write(`${paint(term, "red", "error")}${code}: ${errorMessage(err)}\n`);
    if (err instanceof WasmxdsError && err.code === "USAGE") term.err.write(`\n${command.usage}\n`);
    return err instanceof WasmxdsError && err.code === "USAGE" ? 2 : 1;
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `wasmxds ${VERSION}: an xDS control plane for WebAssembly filters in Envoy`,
    "",
    "Usage: wasmxds <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `wasmxds <command> --help` for a command's options.",
    "",
  ].join("\n");
}
