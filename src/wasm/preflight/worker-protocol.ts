/**
 * Messages between the pre-flight check and its worker thread. The worker
 * is kept warm and runs jobs one at a time; it streams log lines and step
 * changes as they happen, so a module that never returns still leaves its
 * logs and its last step behind when the worker is terminated.
 */
import type { CompiledProxyWasm } from "../host/compiled";
import type { ModuleLogLine } from "../host/vm-options";
import type { LifecycleOptions, LifecycleStage } from "./lifecycle";

export interface WorkerJob {
  readonly compiled: CompiledProxyWasm;
  readonly rootId: string;
  readonly vmConfiguration: Uint8Array;
  readonly pluginConfiguration: Uint8Array;
  /** WASI environment entries (PreflightOptions.environment). */
  readonly environment: Readonly<Record<string, string>>;
  readonly lifecycle: LifecycleOptions;
}

/** Parent to worker. */
export interface WorkerRequest {
  readonly jobId: number;
  readonly job: WorkerJob;
}

type Reply =
  | { readonly type: "log"; readonly line: ModuleLogLine }
  | { readonly type: "step"; readonly stage: LifecycleStage; readonly step: string }
  | { readonly type: "done"; readonly ok: true }
  | { readonly type: "done"; readonly ok: false; readonly stage: LifecycleStage; readonly reason: string };

/** Worker to parent: `ready` once loaded, then replies tagged with their job. */
export type WorkerMessage = { readonly type: "ready" } | (Reply & { readonly jobId: number });
