/**
 * Turns zod issues into `file: path: message` lines that say what was
 * expected, in YAML words (mapping, list) rather than JavaScript ones, with a
 * "did you mean" hint for unknown keys and misspelt values.
 */
import type { z } from "zod";
import { type IssuePath, issueLine } from "./issue-path";
import { knownKeys } from "./known-keys";
import { didYouMean } from "./suggest";

type Issue = z.core.$ZodIssue;

const EXPECTED: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  null: "nothing (null)",
};

/** How a YAML value reads in a message. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string":
      // A whole file read as one scalar (binary garbage, a truncated save) must not become a megabyte of message.
      return value.length > 80 ? `${JSON.stringify(value.slice(0, 60))}… (${value.length} characters)` : JSON.stringify(value);
    case "number":
    case "boolean":
      return String(value);
    case "object":
      return "a mapping";
    default:
      return typeof value;
  }
}

function quoteAll(values: readonly unknown[]): string {
  const quoted = values.map((v) => JSON.stringify(v));
  if (quoted.length <= 1) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}

/**
 * Messages for zod's built-in checks, passed to safeParse as its error map;
 * messages written in the schema take precedence over these (zod's rule).
 */
export const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type": {
      const expected = EXPECTED[issue.expected] ?? String(issue.expected);
      if (issue.input === undefined) return `required: expected ${expected}`;
      return `expected ${expected}, got ${describeValue(issue.input)}`;
    }
    case "invalid_value": {
      const expected = `expected ${issue.values.length > 2 ? "one of " : ""}${quoteAll(issue.values)}`;
      if (issue.input === undefined) return `required: ${expected}`;
      const hint =
        typeof issue.input === "string" ? didYouMean(issue.input, issue.values.filter((v) => typeof v === "string")) : "";
      return `${expected}, got ${describeValue(issue.input)}${hint}`;
    }
    case "too_small":
      if (issue.origin === "array") return `expected at least ${issue.minimum} item(s)`;
      if (issue.origin === "string") return "expected a non-empty string";
      return `expected at least ${issue.minimum}`;
    case "too_big":
      return `expected at most ${issue.maximum}`;
    default:
      return undefined;
  }
};

/**
 * Lines for the issues zod found in a value at `prefix` (e.g. `filters[0]`),
 * validated with `schema` (used to list the keys an object accepts).
 */
export function formatZodIssues(
  file: string,
  prefix: IssuePath,
  issues: readonly Issue[],
  schema: z.ZodType,
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(schema, issue.path) ?? [];
      for (const key of issue.keys) {
        const hint = didYouMean(key, known) || (known.length > 0 ? `; expected one of ${known.join(", ")}` : "");
        lines.push(issueLine(file, [...path, key], `unknown key${hint}`));
      }
      continue;
    }
    lines.push(issueLine(file, path, issue.message));
  }
  return lines;
}
