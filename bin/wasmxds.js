#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx, so no build step is needed.
import { register } from "tsx/esm/api";

const EXIT_BACKSTOP_MS = 3000;

register();
const { main } = await import("../src/cli/main.ts");
const code = await main(process.argv.slice(2));
process.exitCode = code;
// A command that returned has closed what it opened; should anything still hold the
// event loop (a socket a peer keeps open), exit anyway rather than hang (docs/RELIABILITY.md).
setTimeout(() => {
  process.stderr.write(`wasmxds: still running ${EXIT_BACKSTOP_MS} ms after the command ended; forcing exit\n`);
  process.exit(code);
}, EXIT_BACKSTOP_MS).unref();
