/** Pure builders from the config model to Envoy resources. */
export { buildResources, type BuildInput, type BuiltResources } from "./build";
export type { ModuleBytes } from "../vocabulary/module";
export { moduleUri, type ModuleServerAddress, type ModuleServerEndpoint, type ModuleServerTls } from "./module-cluster";
export { REMOTE_FETCH, REPUSH_QUERY, WASM_RUNTIME, shortSha } from "./wasm-filter";
