// The `wasmxds` command run from the TypeScript sources through tsx: what
// tests spawn (test/helpers/cli-process.ts), so that they exercise the code as
// it is being edited, with no build step in between. bin/wasmxds.js runs the
// same entry built (dist/cli/run.js); test/package/ covers that one.
import { register } from "tsx/esm/api";

register();
await import("../../src/cli/run.ts");
