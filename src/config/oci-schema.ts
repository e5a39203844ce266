/**
 * The filter fields of `oci://` modules (docs/OCI.md): the reference in
 * `url:`, `pullSecret` (a docker config.json inside the config folder),
 * `pullPolicy` (IfNotPresent | Always) and `insecure`. Kept apart from
 * filter-schema.ts so that file stays a list of fields.
 */
import { z } from "zod";
import { parseOciReference } from "../vocabulary/oci-reference";
import type { ModuleSource } from "./model";
import { parseModulePath } from "./module-path";

export const PULL_POLICIES = ["IfNotPresent", "Always"] as const;

export function isOciUrl(text: unknown): text is string {
  return typeof text === "string" && text.startsWith("oci://");
}

/** The `url:` check for an oci:// reference; returns the error text, or undefined when valid. */
export function ociUrlError(text: string): string | undefined {
  const parsed = parseOciReference(text);
  return "error" in parsed ? parsed.error : undefined;
}

export const pullSecretField = z.string().transform((text, ctx): string => {
  const parsed = parseModulePath(text);
  if ("error" in parsed) {
    ctx.addIssue({ code: "custom", message: parsed.error.replace("a .wasm file", "a docker config.json") });
    return z.NEVER;
  }
  return parsed.value;
});

export const pullPolicyField = z.enum(PULL_POLICIES);

interface OciFields {
  readonly url?: unknown;
  readonly pullSecret?: unknown;
  readonly pullPolicy?: unknown;
}

/** pullSecret and pullPolicy only with an oci:// url. */
export function checkOciFields(f: OciFields, ctx: z.RefinementCtx): void {
  for (const key of ["pullSecret", "pullPolicy"] as const) {
    if (f[key] !== undefined && !isOciUrl(f.url)) ctx.addIssue({ code: "custom", path: [key], message: "only allowed with an oci:// url" });
  }
}

/** The module source of a filter whose url is oci://. */
export function ociSource(f: { url: string; sha256?: string; pullSecret?: string; pullPolicy?: (typeof PULL_POLICIES)[number]; insecure?: boolean }): ModuleSource {
  return {
    type: "oci",
    reference: f.url,
    pullPolicy: f.pullPolicy ?? "IfNotPresent",
    ...(f.sha256 !== undefined && { sha256: f.sha256 }),
    ...(f.pullSecret !== undefined && { pullSecret: f.pullSecret }),
    ...(f.insecure === true && { insecure: true }),
  };
}
