/**
 * Field schemas shared by the sections of wasmxds.yaml. Messages say what was
 * expected; the path and file are added by issues.ts.
 */
import { z } from "zod";
import { parseDuration } from "./duration";
import { jsonText, notJson } from "./json-text";

/**
 * Filter, listener and cluster names end up in xDS resource names, Envoy stat
 * names (`wasm.<plugin name>.*`, `http.<stat_prefix>.*`) and the plugin name
 * `<filter>@<sha8>`, so they are kept to characters that survive all three.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const nameField = z
  .string()
  .regex(NAME_PATTERN, "expected a name of letters, digits, '.', '_' or '-' (starting with a letter or digit, at most 100)");

/** A duration string (`250ms`, `30s`, `2m`, `1m30s`) as whole milliseconds, at least `minMs`. */
export function durationField(minMs: number) {
  return z.string().transform((text, ctx): number => {
    const parsed = parseDuration(text);
    if ("error" in parsed) {
      ctx.addIssue({ code: "custom", message: parsed.error });
      return z.NEVER;
    }
    if (parsed.ms < minMs) {
      ctx.addIssue({ code: "custom", message: `expected at least ${minMs}ms, got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return parsed.ms;
  });
}

/**
 * Any JSON value, turned into the text the module receives (json-text.ts).
 * `null` (an empty `configuration:`) means "not set".
 */
export const jsonTextField = z.unknown().transform((value, ctx): string | undefined => {
  if (value === null || value === undefined) return undefined;
  const why = notJson(value);
  if (why !== undefined) {
    ctx.addIssue({ code: "custom", message: why });
    return z.NEVER;
  }
  return jsonText(value);
});

/** A string parsed by `parse`, which returns the value or a message. */
export function parsedString<T>(parse: (text: string) => { value: T } | { error: string }) {
  return z.string().transform((text, ctx): T => {
    const parsed = parse(text);
    if ("error" in parsed) {
      ctx.addIssue({ code: "custom", message: parsed.error });
      return z.NEVER;
    }
    return parsed.value;
  });
}
