/**
 * A wasm filter's PluginConfig, read the way Envoy reads it
 * (docs/ENVOY.md "Wasm filter configuration"; source/extensions/common/wasm
 * wasm.cc PluginConfig and createWasm). Problems Envoy rejects while
 * building the filter config throw with Envoy's message, which then becomes
 * the NACK's error_detail.
 */
import { ModuleError } from "../../errors";
import type { PluginConfig__Output } from "../../generated/envoy/extensions/wasm/v3/PluginConfig";
import type { Any__Output } from "../../generated/google/protobuf/Any";
import { decodeMessage, messageNameOf } from "../../proto/registry";
import { durationMs } from "../config/proto-util";

export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

export interface RemoteCode {
  readonly kind: "remote";
  readonly uri: string;
  readonly cluster: string;
  readonly timeoutMs: number;
  readonly sha256: string;
  /** RemoteDataSource.retry_policy.num_retries; default 1. */
  readonly retries: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** VmConfig.nack_on_code_cache_miss. */
  readonly nackOnCacheMiss: boolean;
}

/** `file`: code.local.filename, read from the node's host disk when the plugin is created (host-disk.ts). */
export type PluginCode = { readonly kind: "local"; readonly bytes: Uint8Array } | { readonly kind: "file"; readonly filename: string } | RemoteCode;

export interface PluginSpec {
  readonly kind: "http" | "network";
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
  /** VmConfig.runtime; names the `wasm.<runtime>.*` stats. */
  readonly runtime: string;
  readonly code: PluginCode;
  readonly vmConfiguration: Uint8Array;
  readonly pluginConfiguration: Uint8Array;
  readonly failurePolicy: FailurePolicy;
  /** reload_config.backoff.base_interval; default 1 s. */
  readonly reloadBaseMs: number;
  /** environment_variables.key_values. */
  readonly environment: Readonly<Record<string, string>>;
  /** environment_variables.host_env_keys, valued from the node's host environment (wasm-runtime.ts). */
  readonly hostEnvKeys: readonly string[];
  /** VmConfig.allow_precompiled: read, without effect here (Node's V8 cannot load Envoy's wee8 sections; docs/SIMULATOR.md). */
  readonly allowPrecompiled: boolean;
}

export const DEFAULT_RUNTIME = "envoy.wasm.runtime.v8";
/** RemoteDataSource retry defaults (docs/ENVOY.md "Wasm filter configuration"; Envoy's RemoteAsyncDataProvider). */
const DEFAULT_RETRIES = 1;
const DEFAULT_RETRY_BASE_MS = 1000;

const encoder = new TextEncoder();

/**
 * Configuration bytes as the module sees them (MessageUtil::anyToBytes,
 * source/common/protobuf/utility.h, used by Plugin in
 * source/extensions/common/wasm/plugin.h; Envoy 1.33 and main): a
 * StringValue's string and a BytesValue's bytes are unwrapped, and any other
 * type, google.protobuf.Struct included, reaches the module as its serialized
 * protobuf bytes (the Any's value). The PluginConfig.configuration comment
 * says a Struct is passed as JSON; the code does not (docs/ENVOY.md
 * "Plugin configuration bytes").
 */
export function configurationBytes(any: Any__Output | null | undefined): Uint8Array {
  if (!any?.type_url) return new Uint8Array(0);
  switch (messageNameOf(any.type_url)) {
    case "google.protobuf.StringValue":
      return encoder.encode(decodeMessage<{ value: string }>("google.protobuf.StringValue", any.value).value);
    case "google.protobuf.BytesValue":
      return decodeMessage<{ value: Buffer }>("google.protobuf.BytesValue", any.value).value;
    default:
      return any.value;
  }
}

function fail(message: string): never {
  throw new ModuleError("MODULE_REJECTED", message);
}

function localBytes(local: NonNullable<NonNullable<PluginConfig__Output["vm_config"]>["code"]>["local"]): Uint8Array {
  switch (local?.specifier) {
    case "inline_bytes":
      return local.inline_bytes ?? new Uint8Array(0);
    case "inline_string":
      return encoder.encode(local.inline_string ?? "");
    case "environment_variable":
      return encoder.encode(process.env[local.environment_variable ?? ""] ?? "");
    default:
      return new Uint8Array(0);
  }
}

function codeOf(config: PluginConfig__Output): PluginCode {
  const code = config.vm_config?.code;
  const remote = code?.specifier === "remote" ? code.remote : undefined;
  if (!remote) {
    if (code?.local?.specifier === "filename") return { kind: "file", filename: code.local.filename ?? "" };
    return { kind: "local", bytes: localBytes(code?.local) };
  }
  // The two required fields of RemoteDataSource (PGV rules in base.proto).
  if (!remote.http_uri) fail("Proto constraint validation failed (RemoteDataSourceValidationError.HttpUri: value is required)");
  if (!remote.http_uri.timeout) fail("Proto constraint validation failed (HttpUriValidationError.Timeout: value is required)");
  if (!remote.sha256) {
    fail("Proto constraint validation failed (RemoteDataSourceValidationError.Sha256: value length must be at least 1 characters)");
  }
  const base = durationMs(remote.retry_policy?.retry_back_off?.base_interval, DEFAULT_RETRY_BASE_MS);
  return {
    kind: "remote",
    uri: remote.http_uri.uri,
    cluster: remote.http_uri.cluster ?? "",
    timeoutMs: durationMs(remote.http_uri.timeout, 0),
    sha256: remote.sha256,
    retries: remote.retry_policy?.num_retries?.value ?? DEFAULT_RETRIES,
    backoffBaseMs: base,
    backoffMaxMs: durationMs(remote.retry_policy?.retry_back_off?.max_interval, base * 10),
    nackOnCacheMiss: config.vm_config?.nack_on_code_cache_miss ?? false,
  };
}

function failurePolicy(config: PluginConfig__Output): FailurePolicy {
  const policy = String(config.failure_policy ?? "UNSPECIFIED");
  if (config.fail_open) {
    if (policy !== "UNSPECIFIED") fail("only one of fail_open or failure_policy can be set");
    return "FAIL_OPEN";
  }
  if (policy === "UNSPECIFIED" || policy === "0") return "FAIL_CLOSED";
  if (policy === "FAIL_CLOSED" || policy === "FAIL_OPEN" || policy === "FAIL_RELOAD") return policy;
  return fail("unknown failure policy");
}

/** Reads the PluginConfig of an http or network Wasm filter. */
export function readPluginSpec(kind: "http" | "network", config: PluginConfig__Output | null | undefined): PluginSpec {
  if (!config) fail("Proto constraint validation failed (WasmValidationError.Config: value is required)");
  const env = config.vm_config?.environment_variables?.key_values ?? {};
  const hostEnvKeys = config.vm_config?.environment_variables?.host_env_keys ?? [];
  // WasmConfig (extensions/common/wasm/plugin.cc): a key in both lists, or twice in host_env_keys, is refused.
  const keys = new Set(Object.keys(env));
  for (const key of hostEnvKeys) {
    if (keys.has(key)) {
      fail(`Key ${key} is duplicated in envoy.extensions.wasm.v3.VmConfig.environment_variables for ${config.name}. All the keys must be unique.`);
    }
    keys.add(key);
  }
  return {
    kind,
    name: config.name,
    rootId: config.root_id,
    vmId: config.vm_config?.vm_id ?? "",
    runtime: config.vm_config?.runtime || DEFAULT_RUNTIME,
    code: codeOf(config),
    vmConfiguration: configurationBytes(config.vm_config?.configuration),
    pluginConfiguration: configurationBytes(config.configuration),
    failurePolicy: failurePolicy(config),
    reloadBaseMs: Math.max(1, durationMs(config.reload_config?.backoff?.base_interval, 1000)),
    environment: { ...env },
    hostEnvKeys: [...hostEnvKeys],
    allowPrecompiled: config.vm_config?.allow_precompiled ?? false,
  };
}
