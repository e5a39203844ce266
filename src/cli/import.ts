/**
 * `wasmxds import FILE...`: Istio WasmPlugins and EnvoyFilters with Wasm
 * patches (YAML, one or many documents per file) as wasmxds.yaml `filters`
 * entries, printed on standard output or written with `--out FILE`; what
 * could not be carried over is said on standard error (import-istio.ts).
 */
import { readFile, stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { MAX_ALIAS_COUNT } from "../config/yaml-document";
import { findExcessNesting } from "../config/yaml-limits";
import { WasmxdsError, errorMessage } from "../errors";
import { writeFileAtomic } from "../fs/atomic-write";
import type { Command } from "./command";
import { importIstio } from "./import-istio";
import { paint } from "./output";

const USAGE = `Usage: wasmxds import FILE... [--out FILE]

Converts Istio WasmPlugins and EnvoyFilters that insert an Envoy Wasm filter
(YAML, one or many documents per file) into wasmxds.yaml filters entries.
Prints them on standard output; says on standard error what could not be
carried over and why (phase and priority become positions in a listener's
filters list; workload selectors become selector).

Options:
      --out FILE                write the entries to FILE instead of standard output`;

/** An input larger than this is refused: Istio resources are small. */
const MAX_INPUT_BYTES = 4 * 1024 * 1024;

export const importCommand: Command = {
  name: "import",
  summary: "convert Istio WasmPlugins and EnvoyFilters into wasmxds filters",
  usage: USAGE,
  async run(argv, term) {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv);
    } catch (err) {
      throw new WasmxdsError("USAGE", errorMessage(err));
    }
    const files = parsed.positionals;
    if (files.length === 0) throw new WasmxdsError("USAGE", "expected at least one FILE");
    const docs: { source: string; doc: unknown }[] = [];
    for (const file of files) docs.push(...(await readDocuments(file)));
    const result = importIstio(docs);
    const text = result.filters.length === 0 ? "filters: []\n" : stringify({ filters: result.filters }, { lineWidth: 0 });
    for (const n of result.notes) term.err.write(`${paint(term, "yellow", "note")}: ${n}\n`);
    if (parsed.values.out !== undefined) {
      await writeFileAtomic(parsed.values.out, text);
      term.err.write(`wrote ${result.filters.length} filter(s) to ${parsed.values.out}\n`);
    } else term.out.write(text);
    return result.filters.length === 0 ? 1 : 0;
  },
};

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: { out: { type: "string" } }, allowPositionals: true, strict: true });
}

async function readDocuments(file: string): Promise<{ source: string; doc: unknown }[]> {
  const fail = (why: string): never => {
    throw new WasmxdsError("CONFIG_INVALID", `${file}: ${why}`);
  };
  let text: string;
  try {
    if ((await stat(file)).size > MAX_INPUT_BYTES) fail(`larger than ${MAX_INPUT_BYTES} bytes`);
    text = await readFile(file, "utf8");
  } catch (err) {
    if (err instanceof WasmxdsError) throw err;
    return fail(`cannot be read: ${errorMessage(err)}`);
  }
  const deep = findExcessNesting(text);
  if (deep) fail(`line ${deep.line}: nested ${deep.depth} levels deep`);
  const out: { source: string; doc: unknown }[] = [];
  for (const [i, d] of parseAllDocuments(text).entries()) {
    if (d.errors.length > 0) fail(`document ${i + 1}: ${d.errors[0]?.message ?? "invalid YAML"}`);
    out.push({ source: `${file}#${i + 1}`, doc: d.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) });
  }
  return out;
}
