/**
 * `selector:` and `rollout:` of a filter (docs/ROLLOUTS.md).
 */
import { z } from "zod";
import { DEFAULT_GATES, type RolloutPlan } from "./rollout-plan";
import type { NodeSelector } from "../vocabulary/node-selector";
import { durationField } from "./fields";

/** A share of requests, 0..1 (canary analysis gates, docs/HEALTH.md). */
export const ratioField = z.number().min(0, "expected a ratio between 0 and 1").max(1, "expected a ratio between 0 and 1");

const oneOrMany = z.union([z.string(), z.array(z.string()).min(1)]);
const metaMatch = z.union([
  z.string(),
  z.array(z.string()).min(1),
  z.strictObject({ exists: z.boolean() }),
  z.strictObject({ in: z.array(z.string()).min(1) }),
  z.strictObject({ notIn: z.array(z.string()).min(1) }),
]);

export const selectorSchema = z
  .strictObject({
    id: oneOrMany.optional(),
    cluster: oneOrMany.optional(),
    region: oneOrMany.optional(),
    zone: oneOrMany.optional(),
    metadata: z.record(z.string(), metaMatch).optional(),
  })
  .transform((s): NodeSelector => ({ ...s }));

const stepSchema = z
  .strictObject({
    nodes: z.number().int().min(1).optional(),
    percent: z.number().gt(0).max(100).optional(),
    selector: selectorSchema.optional(),
    bake: durationField(0).optional(),
  })
  .superRefine((s, ctx) => {
    const kinds = [s.nodes, s.percent, s.selector].filter((x) => x !== undefined).length;
    if (kinds !== 1) ctx.addIssue({ code: "custom", message: "expected exactly one of nodes, percent or selector" });
  });

export const rolloutSchema = z
  .strictObject({
    steps: z.array(stepSchema).min(1),
    gates: z
      .strictObject({
        maxNacks: z.number().int().min(0).optional(),
        maxCrashes: z.number().int().min(0).optional(),
        maxDisconnects: z.number().int().min(0).optional(),
        minAcked: z.number().int().min(0).optional(),
        maxFailureRatio: ratioField.optional(),
        maxFailureRatioIncrease: ratioField.optional(),
        minRequests: z.number().int().min(1).optional(),
      })
      .optional(),
    onNewVersion: z.enum(["supersede", "queue"]).default("supersede"),
  })
  .transform(
    (r): RolloutPlan => ({
      steps: r.steps.map((s) => ({
        ...(s.nodes !== undefined && { nodes: s.nodes }),
        ...(s.percent !== undefined && { percent: s.percent }),
        ...(s.selector !== undefined && { selector: s.selector }),
        bakeMs: s.bake ?? 0,
      })),
      gates: { ...DEFAULT_GATES, ...r.gates },
      onNewVersion: r.onNewVersion,
    }),
  );
