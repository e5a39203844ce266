/**
 * The optional `server:` section of wasmxds.yaml (docs/CONFIG.md, "server"):
 * settings about how Envoy reaches this server rather than what it serves.
 */
import { z } from "zod";
import { parseModulesBaseUrl } from "./address";
import { parsedString } from "./fields";
import type { ServerConfig } from "./model";

export const serverSchema = z
  .strictObject({
    // When Envoy cannot reach the module server at the address it listens on
    // (0.0.0.0, containers, a proxy in front), remote code URIs and the
    // wasmxds_modules cluster use this URL instead.
    modulesBaseUrl: parsedString(parseModulesBaseUrl).optional(),
    // Confirms a version that removes every listener or cluster, or most of
    // them (control/removal-guard.ts); without it such a save is refused.
    allowEmpty: z.boolean().optional(),
    // The largest module sent inline (docs/CONFIG.md, "Inline or remote code").
    maxInlineBytes: z.number().int("expected a whole number of bytes").min(1, "expected at least 1 byte").optional(),
    // The bootstrap's static cluster that reaches this server (envoy/bootstrap.yaml: xds_cluster);
    // the access logs wired into every listener report failures through it.
    controlPlaneCluster: z.string().min(1, "expected a cluster name").optional(),
    // Lets `url:` modules come from loopback, link-local and private addresses
    // (SECURITY.md, "Fetching modules"); unset: such fetches are refused.
    allowPrivateFetch: z.boolean().optional(),
    // The largest module fetched from a `url:`, counted while streaming.
    maxModuleBytes: z.number().int("expected a whole number of bytes").min(1, "expected at least 1 byte").optional(),
    // "off": no access log in the listeners (docs/HEALTH.md, "Failure reports").
    // YAML 1.1 readers take on/off for booleans, so true/false mean the same.
    failureReports: z
      .union([z.enum(["on", "off"]), z.boolean()], { error: 'expected "on" or "off"' })
      .transform((v) => (v === true || v === "on" ? ("on" as const) : ("off" as const)))
      .optional(),
  })
  .transform(
    (s): ServerConfig => ({
      ...(s.modulesBaseUrl !== undefined && { modulesBaseUrl: s.modulesBaseUrl }),
      ...(s.allowEmpty !== undefined && { allowEmpty: s.allowEmpty }),
      ...(s.maxInlineBytes !== undefined && { maxInlineBytes: s.maxInlineBytes }),
      ...(s.controlPlaneCluster !== undefined && { controlPlaneCluster: s.controlPlaneCluster }),
      ...(s.failureReports !== undefined && { failureReports: s.failureReports }),
      ...(s.allowPrivateFetch !== undefined && { allowPrivateFetch: s.allowPrivateFetch }),
      ...(s.maxModuleBytes !== undefined && { maxModuleBytes: s.maxModuleBytes }),
    }),
  );
