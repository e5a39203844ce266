/**
 * YAML text to plain data, with syntax errors as `file:line:col: message`
 * (1-based, as editors count). Duplicate keys are errors (yaml's default):
 * a silently ignored first `code: remote` would be a nasty surprise.
 */
import { LineCounter, parseDocument } from "yaml";
import { errorMessage } from "../errors";

export type YamlResult = { readonly value: unknown } | { readonly errors: readonly string[] };

export function parseYaml(text: string, file: string): YamlResult {
  const lineCounter = new LineCounter();
  // merge: `<<: *defaults` lets filters share settings, as users of YAML anchors expect.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      errors: doc.errors.map((err) => {
        const { line, col } = lineCounter.linePos(err.pos[0]);
        return `${file}:${line}:${col}: ${err.message}`;
      }),
    };
  }
  try {
    return { value: doc.toJS({ maxAliasCount: 1000 }) };
  } catch (err) {
    // Unresolved or excessive aliases surface only when converting.
    return { errors: [`${file}: ${errorMessage(err)}`] };
  }
}
