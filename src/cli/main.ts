/**
 * `wasmxds <command>`: parses arguments and hands off to a command. Returns
 * the process exit code; never calls process.exit itself so tests can run it.
 */
import { WasmxdsError, errorMessage } from "../errors";
import { type Terminal, paint, processTerminal } from "./output";

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: string[], term: Terminal, signal: AbortSignal): Promise<number>;
}

const VERSION = "0.1.0";

async function loadCommands(): Promise<Command[]> {
  const { serveCommand, devCommand } = await import("./serve");
  const { simCommand } = await import("./sim");
  const { statusCommand } = await import("./status");
  const { rolloutCommand } = await import("./rollout");
  return [serveCommand, devCommand, simCommand, statusCommand, rolloutCommand];
}

export async function main(argv: string[], term: Terminal = processTerminal(), signal?: AbortSignal): Promise<number> {
  const commands = await loadCommands();
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    term.out.write(helpText(commands));
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-v") {
    term.out.write(`wasmxds ${VERSION}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    term.err.write(`wasmxds: unknown command "${name}"\n\n${helpText(commands)}`);
    return 2;
  }
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

function helpText(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `wasmxds ${VERSION}: an xDS control plane for WebAssembly filters in Envoy`,
    "",
    "Usage: wasmxds <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `wasmxds <command> --help` for a command's options.",
    "",
  ].join("\n");
}
