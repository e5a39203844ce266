/**
 * The keys a strict object in the schema accepts, found by walking the schema
 * along an issue's path; used for "did you mean" hints on unknown keys.
 */
import { z } from "zod";

export function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): readonly string[] | undefined {
  let current: unknown = schema;
  let i = 0;
  for (;;) {
    // Transforms wrap the object in a pipe; optional/default/nullable wrap it too.
    if (current instanceof z.ZodPipe) {
      current = current.in;
      continue;
    }
    if (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) {
      current = current.unwrap();
      continue;
    }
    if (i === path.length) return current instanceof z.ZodObject ? Object.keys(current.shape) : undefined;
    const segment = path[i++];
    if (current instanceof z.ZodObject && typeof segment === "string") current = current.shape[segment];
    else if (current instanceof z.ZodArray && typeof segment === "number") current = current.element;
    else return undefined;
  }
}
