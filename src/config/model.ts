/**
 * The validated configuration model: what `<config folder>/wasmxds.yaml`
 * means once parsed, defaulted and cross-checked. Everything downstream (the
 * resource builders, the watcher, the rollout controller) works with these
 * types only, never with the YAML. Values are deeply frozen.
 *
 * The field-by-field reference for users is docs/CONFIG.md.
 */

import type { RolloutPlan } from "./rollout-plan";
import type { NodeSelector } from "../vocabulary/node-selector";
import type { VmEnvironment, WasmRuntimeName } from "../vocabulary/wasm-vm";

/** `http` runs in an HttpConnectionManager, `network` in a TCP listener's filter chain. */
export type FilterKind = "http" | "network";

/**
 * How the module's code reaches Envoy (docs/CONFIG.md, "Inline or remote code"):
 * inline bytes are checked synchronously (a bad module is NACKed), remote code
 * is fetched after the ACK (a bad module fails closed later).
 */
export type CodeDelivery = "inline" | "remote";
export type CodeMode = CodeDelivery | "auto";

/**
 * Mirrors envoy.extensions.wasm.v3.FailurePolicy (Envoy 1.33+, docs/ENVOY.md
 * "Wasm filter configuration"); UNSPECIFIED is not offered because it means
 * FAIL_CLOSED anyway.
 */
export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

/** `ecds`: the filter config is its own TypedExtensionConfig resource; `listener`: written into the listener. */
export type Discovery = "ecds" | "listener";

/** With `discovery: listener`, `auto` sends modules up to this size inline and larger ones as remote code. */
export const AUTO_INLINE_MAX_BYTES = 256 * 1024;

/**
 * Default of `server.maxInlineBytes`: the largest module sent inline. Over
 * ECDS, `auto` always means inline (remote code in an ECDS update never
 * loads on a warm listener, docs/ENVOY.md "Remote code over ECDS"), so this
 * is the largest module `auto` can serve over ECDS.
 */
export const DEFAULT_MAX_INLINE_BYTES = 16 * 1024 * 1024;

/** The cluster added for Envoy to fetch remote modules from this server; users cannot declare it. */
export const MODULE_CLUSTER_NAME = "wasmxds_modules";

/** Where a filter's module comes from. */
export type ModuleSource =
  | {
      readonly type: "file";
      /** Relative to the config folder, `/`-separated, normalised (no `.` or `..` segments). */
      readonly path: string;
      /** Optional pin: the file's sha256 must equal it. */
      readonly sha256?: string;
    }
  | {
      readonly type: "url";
      readonly url: string;
      /** Required: the module server verifies the download against it. */
      readonly sha256: string;
      /** true: plain http (and redirects to it) allowed; unset: https only (SECURITY.md, "Fetching modules"). */
      readonly insecure?: boolean;
    }
  | {
      /** Pulled from an OCI registry by the control plane (docs/OCI.md); Envoys never talk to the registry. */
      readonly type: "oci";
      /** `oci://HOST/REPO[:TAG][@DIGEST]` as written. */
      readonly reference: string;
      /** Optional pin: the module itself (not the layer) must hash to it. */
      readonly sha256?: string;
      /** A docker config.json, relative to the config folder. */
      readonly pullSecret?: string;
      /** Always: re-resolve a tag on every rebuild. */
      readonly pullPolicy: "IfNotPresent" | "Always";
      /** true: plain http to the registry allowed. */
      readonly insecure?: boolean;
    }
  | {
      /** Only on the Envoy hosts (FilterConfig.hostPath, no `module:` copy): wasmxds has no bytes to check. */
      readonly type: "host";
      readonly sha256: string;
    };

/** The least reloadBackoff.base: Envoy divides by base >> 1 (docs/ENVOY.md, "FAIL_RELOAD backoff"). */
export const MIN_RELOAD_BASE_MS = 2;

export interface ReloadBackoff {
  /** At least 2ms (docs/ENVOY.md, "FAIL_RELOAD backoff"). */
  readonly baseMs: number;
  /**
   * Accepted for compatibility and kept in the version key (so existing
   * versions keep their identity), but never sent: FAIL_RELOAD reads only
   * base_interval.
   */
  readonly maxMs?: number;
}

export interface FilterConfig {
  readonly name: string;
  readonly kind: FilterKind;
  readonly module: ModuleSource;
  /** Empty string when not configured (Envoy's default root context). */
  readonly rootId: string;
  /** User-chosen VM id prefix; the module's short sha256 is always appended. */
  readonly vmId?: string;
  /** Plugin configuration as handed to on_configure (JSON text, or a string as written). */
  readonly configuration?: string;
  /** VM configuration as handed to on_vm_start. */
  readonly vmConfiguration?: string;
  readonly failurePolicy: FailurePolicy;
  /**
   * VmConfig.runtime (docs/CONFIG.md, "Envoy Wasm fields"); unset means v8,
   * so configs and saved versions from before the field keep their keys. The
   * pre-flight check runs in V8 whatever it is.
   */
  readonly runtime?: Exclude<WasmRuntimeName, "v8">;
  /** VmConfig.allow_precompiled; only `true` is kept. */
  readonly allowPrecompiled?: true;
  /** VmConfig.environment_variables. */
  readonly env?: VmEnvironment;
  /** Values of env.hostKeys for the pre-flight check (never the control plane's own environment). */
  readonly preflightEnv?: Readonly<Record<string, string>>;
  /** Envoy reads the module from this file on its own host (code.local.filename); `module.sha256` is the promise about it. */
  readonly hostPath?: string;
  /** Only with FAIL_RELOAD. */
  readonly reloadBackoff?: ReloadBackoff;
  readonly code: CodeMode;
  readonly discovery: Discovery;
  /**
   * Drive one request (or connection) through the module in the pre-flight
   * check. Unset: on in `wasmxds dev`, off in `wasmxds serve`.
   */
  readonly smokeTest?: boolean;
  /** Run the pre-flight check (default true). */
  readonly preflight: boolean;
  readonly health: HealthPolicy;
  /** Which nodes run this filter at all (default: every node). */
  readonly selector?: NodeSelector;
  /** How a new version reaches the fleet (default: every node at once). */
  readonly rollout?: RolloutPlan;
}

/**
 * When a filter version is rolled back, and when it becomes the last
 * known-good one (docs/CONFIG.md, "health").
 */
export interface HealthPolicy {
  /** NACKs of the version tolerated; one more rolls it back. */
  readonly maxNacks: number;
  /** Crash signals tolerated within `windowMs`; one more rolls it back. */
  readonly maxCrashes: number;
  readonly windowMs: number;
  /** A version served this long, ACKed and without a breach, becomes last known-good. */
  readonly goodAfterMs: number;
  /** Roll back automatically on a breach (otherwise only record it). */
  readonly rollback: boolean;
  /**
   * Share (0..1) of the nodes holding a version that must complain (NACK, or
   * crash within the window) before it is condemned: one node cannot condemn
   * a version the others run healthily (docs/HEALTH.md).
   */
  readonly nodeShare: number;
  /** Canary analysis after a plain push (docs/HEALTH.md "Canary analysis"): the version's failure ratio, at most this (1 = off). */
  readonly maxFailureRatio: number;
  /** The version's failure ratio minus the previous version's, at most this (1 = off). */
  readonly maxFailureRatioIncrease: number;
  /** Requests each side needs before the analysis decides. */
  readonly minRequests: number;
}

export const DEFAULT_HEALTH: HealthPolicy = Object.freeze({
  maxNacks: 0,
  maxCrashes: 0,
  windowMs: 60_000,
  goodAfterMs: 30_000,
  rollback: true,
  nodeShare: 0.5,
  maxFailureRatio: 1,
  maxFailureRatioIncrease: 0.01,
  minRequests: 100,
});

/** A socket address: an IP literal (IPv6 without brackets) and a port. */
export interface SocketAddress {
  readonly host: string;
  readonly port: number;
}

export type RouteMatch = { readonly prefix: string } | { readonly path: string };

export type RouteConfig = RouteMatch & { readonly cluster: string };

export interface HttpListenerConfig {
  readonly kind: "http";
  readonly name: string;
  readonly address: SocketAddress;
  readonly statPrefix: string;
  /** Filter names, in the order they run. */
  readonly filters: readonly string[];
  /** First match wins. */
  readonly routes: readonly RouteConfig[];
}

export interface TcpListenerConfig {
  readonly kind: "tcp";
  readonly name: string;
  readonly address: SocketAddress;
  readonly statPrefix: string;
  readonly filters: readonly string[];
  readonly cluster: string;
}

export type ListenerConfig = HttpListenerConfig | TcpListenerConfig;

/** An upstream endpoint: host is an IP literal or a DNS name. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ClusterConfig {
  readonly name: string;
  readonly endpoints: readonly Endpoint[];
  readonly connectTimeoutMs: number;
  readonly http2: boolean;
}

/** Where Envoy reaches the module server, when it differs from the address the server listens on. */
export interface ModulesBaseUrl {
  readonly host: string;
  readonly port: number;
  /** "" or a path starting with `/` and without a trailing `/`. */
  readonly basePath: string;
}

export interface ServerConfig {
  readonly modulesBaseUrl?: ModulesBaseUrl;
  /**
   * Confirms publishing a version that removes every listener or cluster, or
   * more than half of them (docs/RELIABILITY.md); unset: such a version is refused.
   */
  readonly allowEmpty?: boolean;
  /** The largest module sent inline; unset: DEFAULT_MAX_INLINE_BYTES. */
  readonly maxInlineBytes?: number;
  /** The bootstrap's cluster that reaches this server; unset: DEFAULT_CONTROL_PLANE_CLUSTER. */
  readonly controlPlaneCluster?: string;
  /** "off": listeners carry no access log to this server (docs/HEALTH.md, "Failure reports"); unset: "on". */
  readonly failureReports?: "on" | "off";
  /** true: `url:` modules may come from loopback, link-local and private addresses (SECURITY.md, "Fetching modules"); unset: refused. */
  readonly allowPrivateFetch?: boolean;
  /** The largest module fetched from a `url:`, enforced while streaming; unset: 256 MiB (wasm/remote-fetch.ts). */
  readonly maxModuleBytes?: number;
}

/** The control-plane cluster of envoy/bootstrap.yaml. */
export const DEFAULT_CONTROL_PLANE_CLUSTER = "xds_cluster";

export interface WasmxdsConfig {
  readonly server: ServerConfig;
  readonly filters: readonly FilterConfig[];
  readonly listeners: readonly ListenerConfig[];
  readonly clusters: readonly ClusterConfig[];
}
