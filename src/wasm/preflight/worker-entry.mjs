// Entry of the pre-flight worker thread. Worker threads do not inherit the
// TypeScript loader of the main thread (tsx under bin/wasmxds.js, Vite's
// transform under vitest), so this plain module registers tsx itself and
// then loads the TypeScript worker body.
import { register } from "tsx/esm/api";

register();
await import("./worker-main.ts");
