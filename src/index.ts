/**
 * The library entry (`import { startWasmxds } from "wasmxds"`): runs the
 * whole control plane inside another program, as `wasmxds serve` does
 * (docs/EMBEDDING.md). The parts also have entries of their own:
 * `wasmxds/cache` (snapshots), `wasmxds/xds` (the ADS server) and
 * `wasmxds/sim` (the Envoy fleet simulator).
 *
 * Explicit named exports only: what is listed here is the public API.
 *
 * @module wasmxds
 */
export type { LoggedEvent } from "./events/event-log";
export type { ExplainReason, FilterExplanation, NodeExplanation } from "./control/explain";
export type { ModuleChecker, ModuleVerdict, PublishResult } from "./control/publisher";
export { ConfigError, type ErrorCode, errorMessage, ModuleError, RolloutError, SnapshotError, WasmxdsError } from "./errors";
export { createLogger, jsonLogger, type Logger, type LogLevel, type LogRecord, silentLogger } from "./logger";
export {
  DEFAULT_ADDRESSES,
  DEFAULT_SHUTDOWN_GRACE_MS,
  type RunningWasmxds,
  STATE_DIR_NAME,
  startWasmxds,
  type WasmxdsObserver,
  type WasmxdsOptions,
} from "./main";
export { formatHostPort, type HostPort, parseHostPort } from "./net/host-port";
export { type Clock, realClock, type TimerHandle } from "./time/clock";
export type { ChangeBatch } from "./watch/folder-watcher";
export { type ClusterOptions, type ClusterStatus, DEFAULT_ETCD_PREFIX, DEFAULT_LEASE_TTL_SEC } from "./cluster";
