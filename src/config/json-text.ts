/**
 * `configuration` and `vmConfiguration` accept any JSON value. The module
 * receives bytes (a google.protobuf.StringValue is passed unwrapped,
 * docs/ENVOY.md "Wasm filter configuration"), so values become text here:
 * a string is passed exactly as written (it may already be JSON, or not be
 * JSON at all), anything else becomes its JSON text, keys in the order written.
 */

/** Why `value` is not JSON (path relative to it), or undefined when it is. */
export function notJson(value: unknown, path = ""): string | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : `${path || "value"}: expected a finite number, got ${String(value)}`;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const why = notJson(item, `${path}[${i}]`);
      if (why) return why;
    }
    return undefined;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      const why = notJson(item, path ? `${path}.${key}` : key);
      if (why) return why;
    }
    return undefined;
  }
  return `${path || "value"}: expected a JSON value (mapping, list, string, number, true/false or null)`;
}

/** The text handed to the module. */
export function jsonText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
