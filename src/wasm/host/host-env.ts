/**
 * What the import implementations need from the VM. Keeping it an interface
 * lets each group of imports live in its own small file without reaching
 * into the VM class.
 */
import type { AbiVersion } from "../abi/versions";
import type { LogLevelName } from "../abi/enums";
import type { ContextState, SideCall } from "./context-state";
import type { GuestMemory } from "./guest-memory";
import type { VmMetrics } from "./metrics";
import type { PropertyStore } from "./properties";
import type { SharedState } from "./shared-state";

export type LogSource = "proxy_log" | "stdout" | "stderr";

/** Signature shared by all import implementations (i64 parameters arrive as bigint). */
export type HostFunction = (...args: never[]) => number | undefined;
export type HostFunctions = Record<string, HostFunction>;

export interface HostEnv {
  readonly abi: AbiVersion;
  readonly vmId: string;
  readonly memory: GuestMemory;
  readonly properties: PropertyStore;
  readonly metrics: VmMetrics;
  readonly shared: SharedState;
  readonly vmConfiguration: Uint8Array;
  readonly pluginConfiguration: Uint8Array;
  readonly environment: readonly (readonly [string, string])[];
  /** Numeric level reported by proxy_get_log_level. */
  readonly logLevel: number;
  /** The context host calls act on (effective context if one was set). */
  current(): ContextState;
  context(id: number): ContextState | undefined;
  setEffectiveContext(id: number): void;
  log(level: LogLevelName, message: string, source: LogSource): void;
  /** A host-side note (what Envoy writes to its own `wasm` logger), not a module log line. */
  diagnostic(message: string): void;
  nowNanoseconds(): bigint;
  setTickPeriod(ms: number): void;
  recordSideCall(call: SideCall): void;
  /** proxy_done from a root context that returned false from on_done. */
  done(ctx: ContextState): number;
  /** A queue this VM registered got data. */
  queueReady(rootContextId: number, token: number): void;
}
