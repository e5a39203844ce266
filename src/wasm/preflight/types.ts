/**
 * Inputs and results of the pre-flight check.
 */
import type { AbiVersion } from "../abi/versions";
import type { ModuleLogLine } from "../host/vm-options";

export type PreflightStage = "compile" | "abi" | "start" | "configure" | "smoke" | "timeout";

export interface PreflightOptions {
  /** PluginConfig.root_id the module registers its root context under. */
  rootId?: string;
  vmConfiguration?: string | Uint8Array;
  pluginConfiguration?: string | Uint8Array;
  /** Which filter chain the module will sit in; decides the smoke traffic. */
  kind: "http" | "network";
  /** Drive one request (http) or connection (network) through the module. */
  smoke?: boolean;
  /** Wall-clock budget for start, configure and smoke together (default 2000 ms). */
  timeoutMs?: number;
  /** Largest linear memory the module may reach (default 256 MiB). */
  maxMemoryBytes?: number;
  /**
   * What WASI environ_get hands the module: the filter's env values and the
   * preflightEnv values of its host keys (vocabulary/wasm-vm.ts
   * mergedEnvironment), never the control plane's own process environment.
   */
  environment?: Readonly<Record<string, string>>;
}

export interface PreflightImport {
  readonly module: string;
  readonly name: string;
  readonly kind: string;
  /** `(i32,i32)->i32` for functions. */
  readonly signature?: string;
}

export interface PreflightExport {
  readonly name: string;
  readonly kind: string;
  readonly signature?: string;
}

export interface PreflightOk {
  readonly ok: true;
  readonly abiVersion: AbiVersion;
  readonly exports: readonly PreflightExport[];
  readonly imports: readonly PreflightImport[];
  /** The module's own log lines (proxy_log and stdout/stderr). */
  readonly logs: readonly ModuleLogLine[];
  readonly durationMs: number;
  /** Names of the module's custom sections, in order (precompiled code is one: precompiled.ts). */
  readonly customSections: readonly string[];
}

export interface PreflightFailure {
  readonly ok: false;
  readonly stage: PreflightStage;
  /** What went wrong, naming the export, import or callback involved. */
  readonly reason: string;
  readonly logs: readonly ModuleLogLine[];
}

export type PreflightResult = PreflightOk | PreflightFailure;

export const PREFLIGHT_DEFAULTS = Object.freeze({
  timeoutMs: 2000,
  maxMemoryBytes: 256 * 1024 * 1024,
});
