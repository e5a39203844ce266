// Entry of the pre-flight worker thread when wasmxds runs from its
// TypeScript sources (vitest, or tsx in tests; see run-in-worker.ts). Worker
// threads do not inherit the main thread's loader (tsx, Vite's transform),
// so this plain module registers tsx itself and then loads the TypeScript
// worker body. The build runs dist/wasm/preflight/worker-main.js instead.
import { register } from "tsx/esm/api";

register();
await import("./worker-main.ts");
