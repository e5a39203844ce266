/**
 * The process entry of the `wasmxds` command: runs main() on the process
 * arguments and sets the exit code. bin/wasmxds.js loads the built copy
 * (dist/cli/run.js); tests run this file from the sources with tsx
 * (test/helpers/cli-process.ts), so both run the same code.
 */
import { main } from "./main";

const EXIT_BACKSTOP_MS = 3000;

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A command that returned has closed what it opened; should anything still hold the
// event loop (a socket a peer keeps open), exit anyway rather than hang (docs/RELIABILITY.md).
setTimeout(() => {
  process.stderr.write(`wasmxds: still running ${EXIT_BACKSTOP_MS} ms after the command ended; forcing exit\n`);
  process.exit(code);
}, EXIT_BACKSTOP_MS).unref();
