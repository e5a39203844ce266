/**
 * `module:` paths are relative to the config folder and must stay inside it:
 * the folder is the unit that is watched, versioned and shipped, and a path
 * like `../../etc/x` or `/tmp/x.wasm` would make the running configuration
 * depend on files nobody reviews with it. This is the textual check;
 * load.ts also resolves symlinks before reading.
 */
import { posix } from "node:path";

export function parseModulePath(text: string): { value: string } | { error: string } {
  if (text.trim() === "") return { error: "expected a path to a .wasm file relative to the config folder" };
  if (text.startsWith("/") || text.startsWith("\\") || /^[A-Za-z]:/.test(text)) {
    return { error: `expected a path relative to the config folder, got the absolute path ${JSON.stringify(text)}` };
  }
  if (text.includes("\\")) return { error: `expected '/' as the path separator, got ${JSON.stringify(text)}` };
  const normalised = posix.normalize(text);
  if (normalised === ".." || normalised.startsWith("../")) {
    return { error: `expected a path inside the config folder, got ${JSON.stringify(text)}, which leaves it` };
  }
  if (normalised === "." || normalised.endsWith("/")) {
    return { error: `expected a path to a file, got ${JSON.stringify(text)}` };
  }
  return { value: normalised };
}
