/**
 * Durations as users write them: `250ms`, `30s`, `2m`, `1h`, `1.5s`, or a
 * sequence such as `1m30s` (Go's time.ParseDuration style, which Envoy users
 * know from other tools). Held as whole milliseconds; Envoy's Duration fields
 * used here have no use for finer precision.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Milliseconds, or a message saying what was expected. */
export function parseDuration(text: string): { ms: number } | { error: string } {
  const expected = `expected a duration like 250ms, 30s, 2m or 1m30s, got ${JSON.stringify(text)}`;
  if (!WHOLE.test(text)) return { error: expected };
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    ms += Number(amount) * (UNIT_MS[unit ?? ""] ?? Number.NaN);
  }
  // Round away float noise (0.1s * 1000) before deciding whether it is whole.
  const rounded = Math.round(ms * 1000) / 1000;
  if (!Number.isSafeInteger(rounded)) return { error: `expected a whole number of milliseconds, got ${JSON.stringify(text)}` };
  return { ms: rounded };
}
