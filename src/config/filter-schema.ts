/**
 * One entry of `filters:` in wasmxds.yaml (docs/CONFIG.md, "filters").
 */
import { z } from "zod";
import { SHA256_HEX_PATTERN } from "../vocabulary/sha256";
import { parseDuration } from "./duration";
import { durationField, jsonTextField, nameField, parsedString } from "./fields";
import { DEFAULT_HEALTH, type FilterConfig, MIN_RELOAD_BASE_MS, type ModuleSource } from "./model";
import { parseModulePath } from "./module-path";
import { checkOciFields, isOciUrl, ociSource, ociUrlError, pullPolicyField, pullSecretField } from "./oci-schema";
import { ratioField, rolloutSchema, selectorSchema } from "./rollout-schema";
import { checkVmFields, envField, hostPathField, preflightEnvField, runtimeField } from "./wasm-vm-schema";

export const FAILURE_POLICIES = ["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"] as const;

/**
 * FAIL_RELOAD's backoff as Envoy reads it (docs/ENVOY.md, "FAIL_RELOAD
 * backoff"): wasm.cc builds a JitteredLowerBoundBackOffStrategy from
 * base_interval alone, and that strategy draws `random % (base >> 1)`, so a
 * base of 1ms divides by zero in a release build. A base below 2ms is
 * refused. `max` is accepted for compatibility with older configs, checked,
 * and never sent: Envoy ignores max_interval here.
 */
const reloadBaseField = z.string().transform((text, ctx): number => {
  const parsed = parseDuration(text);
  if ("error" in parsed) {
    ctx.addIssue({ code: "custom", message: parsed.error });
    return z.NEVER;
  }
  if (parsed.ms < MIN_RELOAD_BASE_MS) {
    ctx.addIssue({
      code: "custom",
      message: `expected at least ${MIN_RELOAD_BASE_MS}ms, got ${JSON.stringify(text)}: Envoy's reload backoff draws a random number modulo half the base, so a base under 2ms makes Envoy divide by zero on the first reload check`,
    });
    return z.NEVER;
  }
  return parsed.ms;
});

const reloadBackoffSchema = z
  .strictObject({ base: reloadBaseField, max: durationField(1).optional() })
  .superRefine((b, ctx) => {
    if (b.max !== undefined && b.max < b.base) {
      ctx.addIssue({ code: "custom", path: ["max"], message: `expected at least base (${b.base}ms), got ${b.max}ms` });
    }
  });

const urlField = z.string().transform((text, ctx): string => {
  if (isOciUrl(text)) {
    const error = ociUrlError(text);
    // The text goes on even when invalid, so the cross-field rules still know it is an oci:// url.
    if (error !== undefined) ctx.addIssue({ code: "custom", message: error });
    return text;
  }
  let ok = false;
  try {
    const url = new URL(text);
    ok = url.protocol === "http:" || url.protocol === "https:";
  } catch {
    ok = false;
  }
  if (!ok) {
    ctx.addIssue({ code: "custom", message: `expected an http://, https:// or oci:// URL, got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return text;
});

/** When a version counts as sick, and when as known-good (docs/CONFIG.md, "health"). */
const healthSchema = z.strictObject({
  maxNacks: z.number().int().min(0).default(DEFAULT_HEALTH.maxNacks),
  maxCrashes: z.number().int().min(0).default(DEFAULT_HEALTH.maxCrashes),
  window: durationField(1000).default(DEFAULT_HEALTH.windowMs),
  goodAfter: durationField(0).default(DEFAULT_HEALTH.goodAfterMs),
  rollback: z.boolean().default(DEFAULT_HEALTH.rollback),
  nodeShare: z.number().min(0, "expected a share between 0 and 1").max(1, "expected a share between 0 and 1").default(DEFAULT_HEALTH.nodeShare),
  maxFailureRatio: ratioField.default(DEFAULT_HEALTH.maxFailureRatio),
  maxFailureRatioIncrease: ratioField.default(DEFAULT_HEALTH.maxFailureRatioIncrease),
  minRequests: z.number().int().min(1).default(DEFAULT_HEALTH.minRequests),
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

export const filterSchema = z
  .strictObject({
    name: nameField,
    kind: z.enum(["http", "network"]),
    module: parsedString(parseModulePath).optional(),
    url: urlField.optional(),
    sha256: z.string().regex(SHA256_HEX_PATTERN, "expected 64 lowercase hex characters").optional(),
    // Allows a plain http url (SECURITY.md, "Fetching modules"); https only otherwise.
    insecure: z.boolean().optional(),
    // oci:// modules (oci-schema.ts, docs/OCI.md).
    pullSecret: pullSecretField.optional(),
    pullPolicy: pullPolicyField.optional(),
    // Envoy Wasm fields (wasm-vm-schema.ts, docs/CONFIG.md "Envoy Wasm fields").
    hostPath: hostPathField.optional(),
    runtime: runtimeField,
    allowPrecompiled: z.boolean().optional(),
    env: envField.optional(),
    preflightEnv: preflightEnvField.optional(),
    rootId: z.string().optional(),
    vmId: z.string().min(1, "expected a non-empty string").optional(),
    configuration: jsonTextField.optional(),
    vmConfiguration: jsonTextField.optional(),
    // FAIL_CLOSED is also what Envoy does when failure_policy is unset or unknown
    // to it (pre-1.33), so the default behaves the same on every Envoy.
    failurePolicy: z.enum(FAILURE_POLICIES).default("FAIL_CLOSED"),
    reloadBackoff: reloadBackoffSchema.optional(),
    code: z.enum(["inline", "remote", "auto"]).default("auto"),
    discovery: z.enum(["ecds", "listener"]).default("ecds"),
    // Pre-flight smoke request; unset means the mode's default (on in `wasmxds dev`).
    smokeTest: z.boolean().optional(),
    // The pre-flight check itself; off only for modules that need Envoy-only host features.
    preflight: z.boolean().default(true),
    health: healthSchema.optional(),
    selector: selectorSchema.optional(),
    rollout: rolloutSchema.optional(),
  })
  // Cross-field rules look only at which keys are present, so they are safe to
  // run (and report) even when other fields of the same filter are invalid.
  .superRefine(
    (f, ctx) => {
      if (f.module !== undefined && f.url !== undefined) {
        ctx.addIssue({ code: "custom", path: ["url"], message: "expected either module or url, not both" });
      } else if (f.module === undefined && f.url === undefined && f.hostPath === undefined) {
        ctx.addIssue({
          code: "custom",
          message: "expected module (a .wasm file in the config folder) or url (with sha256)",
        });
      }
      if (typeof f.url === "string" && f.url.startsWith("http:") && f.insecure !== true) {
        ctx.addIssue({ code: "custom", path: ["url"], message: "expected an https:// URL; set insecure: true to fetch over plain http" });
      }
      if (f.insecure !== undefined && f.url === undefined) {
        ctx.addIssue({ code: "custom", path: ["insecure"], message: "only allowed with url" });
      }
      checkVmFields(f, ctx);
      checkOciFields(f, ctx);
      if (f.url !== undefined && f.sha256 === undefined && !isOciUrl(f.url)) {
        ctx.addIssue({ code: "custom", path: ["sha256"], message: "required with url: 64 lowercase hex characters" });
      }
      const policy: unknown = f.failurePolicy;
      if (f.reloadBackoff !== undefined && typeof policy === "string" && policy !== "FAIL_RELOAD") {
        if ((FAILURE_POLICIES as readonly string[]).includes(policy)) {
          ctx.addIssue({
            code: "custom",
            path: ["reloadBackoff"],
            message: `only allowed with failurePolicy FAIL_RELOAD, not ${policy}`,
          });
        }
      }
    },
    { when: (payload) => isObject(payload.value) },
  )
  .transform((f): FilterConfig => {
    const module: ModuleSource =
      f.url !== undefined && isOciUrl(f.url)
        ? ociSource({ ...f, url: f.url })
        : f.url !== undefined
          ? { type: "url", url: f.url, sha256: f.sha256 ?? "", ...(f.insecure === true && { insecure: true }) }
          : f.module === undefined && f.hostPath !== undefined
            ? { type: "host", sha256: f.sha256 ?? "" }
            : { type: "file", path: f.module ?? "", ...(f.sha256 !== undefined && { sha256: f.sha256 }) };
    return {
      name: f.name,
      kind: f.kind,
      module,
      rootId: f.rootId ?? "",
      ...(f.vmId !== undefined && { vmId: f.vmId }),
      ...(f.configuration !== undefined && { configuration: f.configuration }),
      ...(f.vmConfiguration !== undefined && { vmConfiguration: f.vmConfiguration }),
      failurePolicy: f.failurePolicy,
      ...(f.runtime !== "v8" && { runtime: f.runtime }),
      ...(f.allowPrecompiled === true && { allowPrecompiled: true as const }),
      ...(f.env !== undefined && { env: f.env }),
      ...(f.preflightEnv !== undefined && { preflightEnv: f.preflightEnv }),
      ...(f.hostPath !== undefined && { hostPath: f.hostPath }),
      ...(f.reloadBackoff !== undefined && {
        reloadBackoff: { baseMs: f.reloadBackoff.base, ...(f.reloadBackoff.max !== undefined && { maxMs: f.reloadBackoff.max }) },
      }),
      code: f.code,
      discovery: f.discovery,
      ...(f.smokeTest !== undefined && { smokeTest: f.smokeTest }),
      preflight: f.preflight,
      ...(f.selector !== undefined && { selector: f.selector }),
      ...(f.rollout !== undefined && { rollout: f.rollout }),
      health: f.health
        ? {
            maxNacks: f.health.maxNacks,
            maxCrashes: f.health.maxCrashes,
            windowMs: f.health.window,
            goodAfterMs: f.health.goodAfter,
            rollback: f.health.rollback,
            nodeShare: f.health.nodeShare,
            maxFailureRatio: f.health.maxFailureRatio,
            maxFailureRatioIncrease: f.health.maxFailureRatioIncrease,
            minRequests: f.health.minRequests,
          }
        : DEFAULT_HEALTH,
    };
  });
