/** Small statistics for the benchmark reports. */

/** Nearest-rank percentile (p in 0..100) of finite values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))] as number;
}

export interface Distribution {
  readonly count: number;
  /** Samples that never arrived (a node that did not ACK in time). */
  readonly missing: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function distribution(values: readonly number[]): Distribution {
  const finite = values.filter(Number.isFinite);
  return {
    count: values.length,
    missing: values.length - finite.length,
    p50: round(percentile(finite, 50)),
    p99: round(percentile(finite, 99)),
    max: round(finite.length ? Math.max(...finite) : Number.NaN),
  };
}

export interface LinearFit {
  readonly slope: number;
  readonly intercept: number;
  /** Coefficient of determination: 1 is a perfect line. */
  readonly r2: number;
}

/** Least-squares line through (x, y) points; undefined with fewer than two distinct x. */
export function linearFit(points: ReadonlyArray<readonly [number, number]>): LinearFit | undefined {
  const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (new Set(pts.map(([x]) => x)).size < 2) return undefined;
  const n = pts.length;
  const mx = pts.reduce((s, [x]) => s + x, 0) / n;
  const my = pts.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of pts) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept: my - slope * mx, r2 };
}

/**
 * Growth exponent between two sizes: log(y2/y1) / log(x2/x1). 1 is linear,
 * below 1 sub-linear (fixed costs still dominate), above 1 super-linear.
 */
export function growthExponent(x1: number, y1: number, x2: number, y2: number): number {
  if (!(x1 > 0 && x2 > 0 && y1 > 0 && y2 > 0) || x1 === x2) return Number.NaN;
  return Math.log(y2 / y1) / Math.log(x2 / x1);
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
