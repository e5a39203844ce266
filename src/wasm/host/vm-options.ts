/**
 * Options of a ProxyWasmVm, validated and frozen once at construction.
 */
import type { Logger } from "../../logger";
import { silentLogger } from "../../logger";
import { LogLevel, type LogLevelName } from "../abi/enums";
import type { LogSource } from "./host-env";
import { MetricRegistry } from "./metrics";
import type { PropertyValue } from "./properties";
import { SharedState } from "./shared-state";

/** One line the module logged (proxy_log, or stdout/stderr through WASI fd_write). */
export interface ModuleLogLine {
  readonly level: LogLevelName;
  readonly message: string;
  /** The context the module was running in when it logged (0 = VM context). */
  readonly contextId: number;
  readonly source: LogSource;
}

export interface ProxyWasmVmOptions {
  /** Buffer VmConfiguration and the size passed to proxy_on_vm_start. */
  vmConfiguration?: string | Uint8Array;
  /** Buffer PluginConfiguration and the size passed to proxy_on_configure. */
  pluginConfiguration?: string | Uint8Array;
  /** PluginConfig.root_id (default ""). */
  rootId?: string;
  /** PluginConfig.name (default: the root id). */
  pluginName?: string;
  /** VmConfig.vm_id (default ""); scopes shared data and queues. */
  vmId?: string;
  /** Extra or overriding properties; keys are dotted (`node.id`) or NUL-separated paths. */
  properties?: Readonly<Record<string, PropertyValue>>;
  /** VmConfig.environment_variables, visible through WASI environ_get. */
  environment?: Readonly<Record<string, string>>;
  /** Lines below this level are dropped; proxy_get_log_level reports it (default "trace"). */
  logLevel?: LogLevelName;
  /** Called for every kept module log line. */
  onLog?: (line: ModuleLogLine) => void;
  /** How many recent lines `vm.logs` keeps (default 1000). */
  maxLogLines?: number;
  /** Host diagnostics (failures, WASI oddities); module lines go to onLog/logs. */
  logger?: Logger;
  /** Realtime clock in nanoseconds since the epoch. */
  clock?: () => bigint;
  /** Share between VMs so they see each other's shared data and queues. */
  shared?: SharedState;
  /** Share between VMs to aggregate metric values by name. */
  metrics?: MetricRegistry;
}

export interface ResolvedVmOptions {
  readonly vmConfiguration: Uint8Array;
  readonly pluginConfiguration: Uint8Array;
  readonly rootId: string;
  readonly pluginName: string;
  readonly vmId: string;
  readonly properties: Readonly<Record<string, PropertyValue>>;
  readonly environment: readonly (readonly [string, string])[];
  readonly logLevel: number;
  readonly onLog: ((line: ModuleLogLine) => void) | undefined;
  readonly maxLogLines: number;
  readonly logger: Logger;
  readonly clock: () => bigint;
  readonly shared: SharedState;
  readonly metrics: MetricRegistry;
}

const encoder = new TextEncoder();
const toBytes = (v: string | Uint8Array | undefined): Uint8Array =>
  v === undefined ? new Uint8Array(0) : typeof v === "string" ? encoder.encode(v) : v;

const wallClock = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

export function resolveVmOptions(o: ProxyWasmVmOptions): ResolvedVmOptions {
  const rootId = o.rootId ?? "";
  const pluginName = o.pluginName ?? rootId;
  const vmId = o.vmId ?? "";
  return Object.freeze({
    vmConfiguration: toBytes(o.vmConfiguration),
    pluginConfiguration: toBytes(o.pluginConfiguration),
    rootId,
    pluginName,
    vmId,
    // Envoy answers these from the plugin and node configuration.
    properties: Object.freeze({
      plugin_name: pluginName,
      plugin_root_id: rootId,
      plugin_vm_id: vmId,
      "node.id": "wasmxds-sim",
      "node.cluster": "wasmxds",
      ...o.properties,
    }),
    environment: Object.freeze(Object.entries(o.environment ?? {})),
    logLevel: LogLevel[o.logLevel ?? "trace"],
    onLog: o.onLog,
    maxLogLines: Math.max(0, o.maxLogLines ?? 1000),
    logger: o.logger ?? silentLogger,
    clock: o.clock ?? wallClock,
    shared: o.shared ?? new SharedState(),
    metrics: o.metrics ?? new MetricRegistry(),
  });
}
