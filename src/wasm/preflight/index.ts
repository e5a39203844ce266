export { type AbiCheck, checkAbi } from "./abi-check";
export { type LifecycleOptions, type LifecycleOutcome, type LifecycleStage, runLifecycle } from "./lifecycle";
export { preflight } from "./preflight";
export { type PrecompiledReport, customSectionNames, precompiledReport } from "./precompiled";
export type {
  PreflightExport,
  PreflightFailure,
  PreflightImport,
  PreflightOk,
  PreflightOptions,
  PreflightResult,
  PreflightStage,
} from "./types";
export { PREFLIGHT_DEFAULTS } from "./types";
export { warmPreflightWorker } from "./run-in-worker";
