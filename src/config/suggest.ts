/**
 * "Did you mean" hints for misspelt keys, enum values and names: the closest
 * candidate by edit distance, ignoring case and `-`/`_`, when it is close
 * enough to be a plausible typo (at most a third of the word, and at most 3).
 */

function normalise(s: string): string {
  return s.toLowerCase().replace(/[-_]/g, "");
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The candidate `word` was most likely meant to be, if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = normalise(word);
  const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(w, normalise(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `; did you mean "x"?` or an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const hint = closest(word, candidates);
  return hint === undefined ? "" : `; did you mean ${JSON.stringify(hint)}?`;
}
