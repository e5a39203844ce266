/**
 * One error catalogue for the project: every error raised on purpose is a
 * WasmxdsError with a stable `code` (for scripts and the admin API) and an
 * optional `cause`. Messages say what was expected and where.
 */
export type ErrorCode =
  | "CONFIG_INVALID"
  | "CONFIG_UNREADABLE"
  | "CONFIG_REMOVAL_UNCONFIRMED"
  | "SNAPSHOT_INCONSISTENT"
  | "SNAPSHOT_INVALID"
  | "MODULE_INVALID"
  | "MODULE_REJECTED"
  | "MODULE_FETCH_FAILED"
  | "MODULE_HASH_MISMATCH"
  | "MODULE_TOO_LARGE"
  | "ROLLOUT_INVALID"
  | "STATE_CORRUPT"
  /** With replicas: a decision asked of a replica that is not the leader, or a write fenced off because its term ended. */
  | "NOT_LEADER"
  /** With replicas: etcd could not be reached or refused the request. */
  | "ETCD_UNAVAILABLE"
  | "USAGE"
  /** `--workers`: an xDS worker process could not start or listen. */
  | "WORKER_FAILED"
  | "ADDRESS_INVALID"
  | "TLS_INVALID";

export class WasmxdsError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A configuration file or field is wrong. */
export class ConfigError extends WasmxdsError {
  /** Each problem as `file: path: message`. */
  readonly issues: readonly string[];

  constructor(issues: readonly string[], options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? "CONFIG_INVALID", issues.join("\n"), options);
    this.issues = Object.freeze([...issues]);
  }
}

/** A snapshot could not be published (inconsistent or not encodable). */
export class SnapshotError extends WasmxdsError {}

/** A wasm module was rejected, could not be fetched, or failed verification. */
export class ModuleError extends WasmxdsError {}

/** A rollout plan or command is invalid. */
export class RolloutError extends WasmxdsError {}

/** A message for any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
