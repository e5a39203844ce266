/**
 * Validated values are frozen all the way down, so nothing downstream can
 * change a configuration that has been checked (STYLE.md: validate once at the
 * edge, then work with frozen values). The model types are readonly already;
 * this makes it true at run time as well. Not for typed arrays, which cannot
 * be frozen.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
