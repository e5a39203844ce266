/**
 * The pure half of loading: wasmxds.yaml text to a validated, frozen
 * WasmxdsConfig, or one ConfigError listing every problem found. No file
 * system access (module files are checked by load.ts), so it is unit-testable
 * and a bad edit can be rejected before anything running is touched.
 */
import { z } from "zod";
import { ConfigError } from "../errors";
import { clusterSchema } from "./cluster-schema";
import { type Entry, crossCheck } from "./cross-check";
import { filterSchema } from "./filter-schema";
import { deepFreeze } from "./freeze";
import { listenerSchema } from "./listener-schema";
import type { ServerConfig, WasmxdsConfig } from "./model";
import { serverSchema } from "./server-schema";
import { parseYaml } from "./yaml-document";
import { describeValue, errorMap, formatZodIssues } from "./zod-issues";

// `filters:` left empty (null) reads as an empty list: commenting out every
// entry should not be a type error.
const section = z.array(z.unknown()).nullish();

/** The top level only; each entry is validated on its own below. */
const rootSchema = z.strictObject(
  { server: z.unknown().optional(), filters: section, listeners: section, clusters: section },
  {
    error: (issue) =>
      issue.code === "invalid_type"
        ? `expected a mapping with filters, listeners and clusters, got ${issue.input == null ? "an empty document" : describeValue(issue.input)}`
        : undefined,
  },
);

const PARSE_OPTIONS = { error: errorMap, reportInput: true } as const;

interface Section<T> {
  readonly entries: Entry<T>[];
  /** `name` of entries that failed validation, when it is a string. */
  readonly invalidNames: Set<string>;
}

function parseSection<T>(
  file: string,
  key: string,
  items: readonly unknown[] | null | undefined,
  schema: z.ZodType<T>,
  lines: string[],
): Section<T> {
  const result: Section<T> = { entries: [], invalidNames: new Set() };
  for (const [index, item] of (items ?? []).entries()) {
    const parsed = schema.safeParse(item, PARSE_OPTIONS);
    if (parsed.success) {
      result.entries.push({ index, value: parsed.data });
    } else {
      lines.push(...formatZodIssues(file, [key, index], parsed.error.issues, schema));
      const name: unknown = typeof item === "object" && item !== null ? Reflect.get(item, "name") : undefined;
      if (typeof name === "string") result.invalidNames.add(name);
    }
  }
  return result;
}

/**
 * Validates wasmxds.yaml text. `fileName` prefixes every message
 * (`wasmxds.yaml: filters[0].sha256: expected 64 lowercase hex characters`).
 * Throws ConfigError with all problems at once.
 */
export function parseConfig(text: string, fileName = "wasmxds.yaml"): WasmxdsConfig {
  const yaml = parseYaml(text, fileName);
  if ("errors" in yaml) throw new ConfigError(yaml.errors);

  const root = rootSchema.safeParse(yaml.value, PARSE_OPTIONS);
  if (!root.success) {
    const lines = formatZodIssues(fileName, [], root.error.issues, rootSchema);
    // Without a mapping at the top there is nothing more to check.
    if (typeof yaml.value !== "object" || yaml.value === null || Array.isArray(yaml.value)) throw new ConfigError(lines);
    return parseSections(fileName, yaml.value, lines);
  }
  return parseSections(fileName, root.data, []);
}

function parseSections(file: string, doc: object, lines: string[]): WasmxdsConfig {
  const get = (key: string): unknown => Reflect.get(doc, key);
  const asList = (key: string): readonly unknown[] | undefined => {
    const v = get(key);
    return Array.isArray(v) ? v : undefined;
  };

  let server: ServerConfig = {};
  const rawServer = get("server");
  if (rawServer !== undefined && rawServer !== null) {
    const parsed = serverSchema.safeParse(rawServer, PARSE_OPTIONS);
    if (parsed.success) server = parsed.data;
    else lines.push(...formatZodIssues(file, ["server"], parsed.error.issues, serverSchema));
  }

  const filters = parseSection(file, "filters", asList("filters"), filterSchema, lines);
  const listeners = parseSection(file, "listeners", asList("listeners"), listenerSchema, lines);
  const clusters = parseSection(file, "clusters", asList("clusters"), clusterSchema, lines);

  lines.push(
    ...crossCheck(file, {
      filters: filters.entries,
      listeners: listeners.entries,
      clusters: clusters.entries,
      invalidNames: { filters: filters.invalidNames, clusters: clusters.invalidNames },
    }),
  );
  if (lines.length > 0) throw new ConfigError(lines);

  return deepFreeze({
    server,
    filters: filters.entries.map((e) => e.value),
    listeners: listeners.entries.map((e) => e.value),
    clusters: clusters.entries.map((e) => e.value),
  });
}
