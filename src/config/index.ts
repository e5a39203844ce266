/** The configuration folder: schema, validation and loading (docs/CONFIG.md). */
export { parseConfig } from "./parse";
export { loadConfig, CONFIG_FILE_NAMES, type LoadedConfig, type LoadedModule } from "./load";
export { configWarnings } from "./warnings";
export { parseDuration } from "./duration";
export * from "./model";
