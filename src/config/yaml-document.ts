/**
 * YAML text to plain data, with syntax errors as `file:line:col: message`
 * (1-based, as editors count). Duplicate keys are errors (yaml's default):
 * a silently ignored first `code: remote` would be a nasty surprise.
 *
 * Hostile input is refused here, before the schema sees it (limits in
 * yaml-limits.ts and docs/RELIABILITY.md): nesting deeper than
 * MAX_YAML_DEPTH, an alias inside the node it names (a cycle), and aliases
 * that expand past MAX_ALIAS_COUNT or MAX_YAML_VALUES ("billion laughs").
 */
import { type Document, LineCounter, type Node, isAlias, isNode, parseDocument, visit } from "yaml";
import { errorMessage } from "../errors";
import { MAX_YAML_DEPTH, findExcessNesting } from "./yaml-limits";

export type YamlResult = { readonly value: unknown } | { readonly errors: readonly string[] };

/** yaml's maxAliasCount: alias resolutions, weighted by the aliases inside what they name. */
export const MAX_ALIAS_COUNT = 1000;
/** Values in the document once aliases are expanded (what the schema walks). */
export const MAX_YAML_VALUES = 200_000;

export function parseYaml(text: string, file: string): YamlResult {
  const deep = findExcessNesting(text);
  if (deep) {
    return {
      errors: [
        `${file}:${deep.line}:${deep.col}: lists and mappings nested more than ${MAX_YAML_DEPTH} levels deep; expected at most ${MAX_YAML_DEPTH} (is the file complete, are brackets closed?)`,
      ],
    };
  }
  const lineCounter = new LineCounter();
  // merge: `<<: *defaults` lets filters share settings, as users of YAML anchors expect.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) return { errors: doc.errors.map((err) => `${at(err.pos[0])}: ${err.message}`) };
  const cycle = findSelfAlias(doc);
  if (cycle) return { errors: [`${at(cycle.offset)}: alias *${cycle.name} is inside the node &${cycle.name} names, so it would contain itself`] };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // Unresolved or excessive aliases surface only when converting.
    const why = errorMessage(err);
    if (/excessive alias count/i.test(why)) {
      return { errors: [`${file}: aliases expand to too much data (over ${MAX_ALIAS_COUNT} alias uses, counting nested ones); expected fewer aliases`] };
    }
    return { errors: [`${file}: ${why}`] };
  }
  const tooBig = checkExpanded(value);
  return tooBig ? { errors: [`${file}: ${tooBig}`] } : { value };
}

/** An alias that resolves to one of its own ancestors (`&a [*a]`), which would make the data cyclic. */
function findSelfAlias(doc: Document): { name: string; offset: number } | undefined {
  // The anchor an alias resolves to is the last one of that name before it, in document order (yaml's rule).
  const anchors = new Map<string, Node>();
  let found: { name: string; offset: number } | undefined;
  visit(doc, {
    Node: (_key, node, path) => {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target && path.includes(target)) {
          found = { name: node.source, offset: node.range?.[0] ?? 0 };
          return visit.BREAK;
        }
      } else if (node.anchor) {
        anchors.set(node.anchor, node);
      }
      return undefined;
    },
  });
  return found;
}

/** Depth and size of the data once aliases are expanded, walked without recursion. */
function checkExpanded(root: unknown): string | undefined {
  interface Frame {
    readonly value: unknown;
    readonly depth: number;
    readonly parent: Frame | undefined;
    readonly key: string | number | undefined;
  }
  const stack: Frame[] = [{ value: root, depth: 0, parent: undefined, key: undefined }];
  let seen = 0;
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (++seen > MAX_YAML_VALUES) {
      return `aliases expand to more than ${MAX_YAML_VALUES} values; expected a smaller document`;
    }
    const { value } = frame;
    if (typeof value !== "object" || value === null || isNode(value)) continue;
    if (frame.depth >= MAX_YAML_DEPTH) {
      return `${pathOf(frame)}: nested more than ${MAX_YAML_DEPTH} levels deep once aliases are expanded; expected at most ${MAX_YAML_DEPTH}`;
    }
    const entries: Iterable<[string | number, unknown]> = value instanceof Map ? value : Array.isArray(value) ? value.entries() : Object.entries(value);
    for (const [key, child] of entries) stack.push({ value: child, depth: frame.depth + 1, parent: frame, key });
  }
  return undefined;

  function pathOf(frame: Frame): string {
    const keys: (string | number)[] = [];
    for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) keys.push(f.key);
    return keys.reverse().reduce<string>((out, k) => (typeof k === "number" ? `${out}[${k}]` : out ? `${out}.${k}` : k), "") || "(top)";
  }
}
