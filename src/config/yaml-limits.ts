/**
 * Limits checked on wasmxds.yaml before anything recursive touches it.
 *
 * The yaml package composes documents recursively, and so do zod, the JSON
 * checks and deepFreeze: `[[[[…` a few thousand deep, or block lists nested
 * by indentation, ended in "Maximum call stack size exceeded" with no file
 * or line. So the nesting depth is measured first, on the yaml Lexer's
 * token stream (a flat generator, fast, no recursion), and a document that
 * nests deeper than MAX_YAML_DEPTH is refused naming the line where it does.
 *
 * The depth counted is an upper bound of the real one, never lower: flow
 * brackets count one level each, and block collections one level per
 * indentation column that opens one (`-`, `?`, or a `key:`), with a list
 * written at its parent key's column (`a:\n- x`) counted as its own level.
 */
import { Lexer } from "yaml";

/** Lists and mappings inside each other, at most. Real configs nest under 10. */
export const MAX_YAML_DEPTH = 64;

/** Where the nesting first exceeds `max`, 1-based, or undefined when it never does. */
export function findExcessNesting(text: string, max = MAX_YAML_DEPTH): { line: number; col: number; depth: number } | undefined {
  let line = 1;
  let col = 1;
  let flow = 0;
  // Open block collections: indentation column and kind.
  const blocks: { col: number; kind: "seq" | "map" }[] = [];
  // Column where the current line's (or item's) content starts: the key's column at a `:`.
  let itemCol: number | undefined;

  const open = (at: number, kind: "seq" | "map"): boolean => {
    while (blocks.length > 0) {
      const top = blocks[blocks.length - 1]!;
      // A key at the column of a list that sits at its parent key's column closes that list.
      if (top.col > at || (top.col === at && top.kind === "seq" && kind === "map")) blocks.pop();
      else break;
    }
    const top = blocks[blocks.length - 1];
    if (!top || top.col < at || (top.col === at && top.kind !== kind)) blocks.push({ col: at, kind });
    return blocks.length + flow > max;
  };

  for (const token of new Lexer().lex(text)) {
    const startCol = col;
    const startLine = line;
    const nl = token.lastIndexOf("\n");
    if (nl >= 0) {
      for (let i = 0; i <= nl; i++) if (token.charCodeAt(i) === 10) line++;
      col = token.length - nl;
    } else {
      col += token.length;
    }
    // Control characters mark token types and take no room in the source.
    if (token.length === 1 && token.charCodeAt(0) < 0x20 && token !== "\n" && token !== "\t") {
      col = startCol;
      continue;
    }
    let exceeded = false;
    switch (token) {
      case "[":
      case "{":
        flow++;
        exceeded = blocks.length + flow > max;
        itemCol ??= startCol;
        break;
      case "]":
      case "}":
        if (flow > 0) flow--;
        break;
      case "-":
      case "?":
        if (flow === 0) {
          exceeded = open(startCol, token === "-" ? "seq" : "map");
          itemCol = undefined;
        }
        break;
      case ":":
        if (flow === 0 && itemCol !== undefined) exceeded = open(itemCol, "map");
        itemCol = undefined;
        break;
      default:
        // A token that ends a line (a newline, a block scalar's text) ends the item too.
        if (nl >= 0) itemCol = undefined;
        else if (token.trim() !== "" && !token.startsWith("#")) itemCol ??= startCol;
    }
    if (exceeded) return { line: startLine, col: startCol, depth: blocks.length + flow };
  }
  return undefined;
}
