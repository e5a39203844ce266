/**
 * The filter fields that map onto Envoy's VmConfig beyond the code itself
 * (docs/CONFIG.md, "Envoy Wasm fields"): `runtime`, `allowPrecompiled`,
 * `env` with `preflightEnv`, and `hostPath`. Kept apart from filter-schema.ts
 * so that file stays a list of fields; the rules Envoy enforces on these
 * (docs/ENVOY.md "Environment variables") are checked here, at load, so a
 * config Envoy would reject never reaches it.
 */
import { posix } from "node:path";
import { z } from "zod";
import { type VmEnvironment, WASM_RUNTIMES } from "../vocabulary/wasm-vm";

/** At most this many host keys, and this many values: every one is copied into each VM. */
const MAX_ENV_ENTRIES = 256;

/**
 * An environment variable name as WASI hands it over: `KEY=value\0`, so a
 * name holding `=` or NUL would be split differently by the module.
 */
function envKeyProblem(k: string): string | undefined {
  if (k === "") return "expected a non-empty variable name";
  if (k.length > 256) return "expected a variable name of at most 256 characters";
  if (k.includes("=") || k.includes("\0")) return "expected a variable name without '=' or NUL";
  return undefined;
}

const envKeyField = z.string().superRefine((k, ctx) => {
  const problem = envKeyProblem(k);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** A record keyed by variable names; zod's own key error says only "Invalid key in record". */
const envValue = z
  .string()
  .max(64 * 1024, "expected a value of at most 64 KiB")
  .refine((v) => !v.includes("\0"), "expected a value without NUL");

const envRecord = z.record(z.string(), envValue).superRefine((r, ctx) => {
  const keys = Object.keys(r);
  if (keys.length > MAX_ENV_ENTRIES) ctx.addIssue({ code: "custom", message: `expected at most ${MAX_ENV_ENTRIES} variables` });
  for (const k of keys) {
    const problem = envKeyProblem(k);
    if (problem) ctx.addIssue({ code: "custom", path: [k], message: problem });
  }
});

export const runtimeField = z.enum(WASM_RUNTIMES).default("v8");

/** `env: { hostKeys: [...], values: {...} }`: Envoy's VmConfig.environment_variables. */
export const envField = z
  .strictObject({
    hostKeys: z.array(envKeyField).max(MAX_ENV_ENTRIES).optional(),
    values: envRecord.optional(),
  })
  .superRefine((env, ctx) => {
    // Envoy's WasmConfig refuses a key named twice (docs/ENVOY.md "Environment variables").
    const values = new Set(Object.keys(env.values ?? {}));
    const seen = new Set<string>();
    for (const [i, key] of (env.hostKeys ?? []).entries()) {
      if (values.has(key)) {
        ctx.addIssue({ code: "custom", path: ["hostKeys", i], message: `${JSON.stringify(key)} is also in env.values; Envoy refuses a key named twice` });
      } else if (seen.has(key)) {
        ctx.addIssue({ code: "custom", path: ["hostKeys", i], message: `${JSON.stringify(key)} is listed twice; Envoy refuses a key named twice` });
      }
      seen.add(key);
    }
  })
  .transform((env): VmEnvironment => ({ hostKeys: env.hostKeys ?? [], values: env.values ?? {} }));

/** Values the pre-flight check gives the host keys; never the control plane's own environment. */
export const preflightEnvField = envRecord;

/**
 * `hostPath`: a file on the Envoy host (code.local.filename). Absolute and
 * normalised, since Envoy opens it relative to its own working directory
 * otherwise, which nobody reviewing the config can see.
 */
export const hostPathField = z.string().transform((text, ctx): string => {
  const normalised = posix.normalize(text);
  if (!text.startsWith("/") || text.includes("\0") || text.includes("\\") || normalised !== text || text.endsWith("/")) {
    ctx.addIssue({
      code: "custom",
      message: `expected an absolute, normalised path to a file on the Envoy host (like /var/local/lib/wasm-filters/filter.wasm), got ${JSON.stringify(text)}`,
    });
    return z.NEVER;
  }
  // Envoy's file system refuses these (illegalPath, docs/ENVOY.md "Modules on the Envoy host").
  if (/^\/(dev|sys|proc)(\/|$)/.test(text) && !text.startsWith("/dev/fd/")) {
    ctx.addIssue({ code: "custom", message: `expected a file outside /dev, /sys and /proc, which Envoy refuses to read, got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  if (text.length > 4096) {
    ctx.addIssue({ code: "custom", message: "expected a path of at most 4096 characters" });
    return z.NEVER;
  }
  return text;
});

interface VmFieldsInput {
  readonly url?: unknown;
  readonly hostPath?: unknown;
  readonly sha256?: unknown;
  readonly code?: unknown;
  readonly env?: unknown;
  readonly preflightEnv?: unknown;
}

/** Cross-field rules of these fields; look only at which keys are present (filter-schema.ts runs them even on invalid filters). */
export function checkVmFields(f: VmFieldsInput, ctx: z.RefinementCtx): void {
  if (f.hostPath !== undefined) {
    if (f.url !== undefined) ctx.addIssue({ code: "custom", path: ["hostPath"], message: "expected either url or hostPath, not both" });
    if (f.sha256 === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["sha256"],
        message: "required with hostPath: the sha256 of the file deployed on the Envoy hosts (wasmxds cannot read it there)",
      });
    }
    if (f.code !== undefined && f.code !== "auto") {
      ctx.addIssue({ code: "custom", path: ["code"], message: "not allowed with hostPath: Envoy reads the module from its own disk" });
    }
  }
  if (f.preflightEnv !== null && typeof f.preflightEnv === "object") {
    const listed: unknown = f.env !== null && typeof f.env === "object" && "hostKeys" in f.env ? f.env.hostKeys : undefined;
    const hostKeys: unknown[] = Array.isArray(listed) ? listed : [];
    for (const key of Object.keys(f.preflightEnv)) {
      if (!hostKeys.includes(key)) {
        ctx.addIssue({
          code: "custom",
          path: ["preflightEnv", key],
          message: `${JSON.stringify(key)} is not in env.hostKeys; preflightEnv gives values only to host keys (fixed values go in env.values)`,
        });
      }
    }
  }
}
