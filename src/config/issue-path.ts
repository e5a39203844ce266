/**
 * Field paths in messages, as users read them in the YAML:
 * `filters[0].sha256`, `listeners[1].http.routes[0].cluster`.
 */
export type IssuePath = readonly PropertyKey[];

export function formatPath(path: IssuePath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** `file: path: message`, or `file: message` for the document itself. */
export function issueLine(file: string, path: IssuePath, message: string): string {
  return path.length === 0 ? `${file}: ${message}` : `${file}: ${formatPath(path)}: ${message}`;
}
