/**
 * Health signals: what Envoy's stats, access logs and NACKs say about one
 * filter version on one node. Envoy has no single "VM crashed" counter
 * (docs/ENVOY.md, "What Envoy does when a running module crashes"), so each
 * source turns what it sees into these events, and the health monitor
 * decides what they mean.
 */
import { Emitter } from "../emitter";

export type SignalKind =
  /** wasm.<plugin>.vm_reload_success increased: the VM crashed and was re-created (FAIL_RELOAD). */
  | "vm_reload_success"
  /** wasm.<plugin>.vm_reload_failure increased: the VM crashed and could not be re-created. */
  | "vm_reload_failure"
  /** wasm.<plugin>.vm_reload_backoff increased: the VM crashed and a reload was refused by backoff. */
  | "vm_reload_backoff"
  /** wasm.<runtime>.created increased (every VM creation, reloads included); not attributable to a plugin. */
  | "vm_created"
  /** wasm.remote_load_fetch_failures increased: a remote module could not be fetched. */
  | "remote_fetch_failure"
  /** extension_config_discovery.<kind>.<name>.config_fail (or update_rejected) increased. */
  | "ecds_config_fail"
  /** An access log entry with response_code_details wasm_fail_stream: a failed filter answered 503. */
  | "wasm_fail_stream"
  /** A TCP access log entry of a connection closed before reaching upstream, on a wasmxds listener: a failed network filter. */
  | "wasm_fail_connection"
  /** A NACK of a version that carries this filter. */
  | "nack";

export type SignalSource = "metrics-service" | "admin-pull" | "access-log" | "xds";

export interface HealthSignal {
  readonly nodeId: string;
  readonly kind: SignalKind;
  /** How much the counter rose (or how many log entries), at least 1. */
  readonly count: number;
  /** Envoy's plugin name (`<filter>@<sha8>`) when the stat names one. */
  readonly plugin?: string;
  /** The ECDS resource / filter name when the stat names one (config_fail). */
  readonly filter?: string;
  /** The listener the evidence came from (access logs wasmxds wired: log_name wasmxds/<listener>). */
  readonly listener?: string;
  /** The full stat name or other evidence, for the event log. */
  readonly evidence: string;
  readonly source: SignalSource;
  /** ms since the epoch. */
  readonly at: number;
  /**
   * When the failure happened on the node (ms since the epoch), when the
   * evidence says (an access log entry's start_time): it can arrive after the
   * node moved to another version (Envoy buffers access logs), and must not
   * be pinned on a version the node started running later.
   */
  readonly occurredAt?: number;
}

/** Where sources publish signals and the health monitor listens. */
export class SignalHub extends Emitter<HealthSignal> {}

/** Splits a plugin name `<filter>@<sha8>` (the form wasmxds gives every plugin). */
export function parsePluginName(plugin: string): { filter: string; sha8: string } | undefined {
  const at = plugin.lastIndexOf("@");
  if (at <= 0) return undefined;
  const sha8 = plugin.slice(at + 1);
  return /^[0-9a-f]{8}$/.test(sha8) ? { filter: plugin.slice(0, at), sha8 } : undefined;
}
