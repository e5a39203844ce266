/**
 * Canary analysis: is a candidate filter version failing more requests (or
 * connections) than allowed, judged from counts rather than from a crash?
 * Pure statistics; the rollout controller and the health monitor feed it
 * the counts of the same listeners for the candidate and the stable version
 * (traffic-counts.ts) and act on the outcome (docs/HEALTH.md "Canary
 * analysis", with worked numbers).
 *
 * Two gates, each a one-sided test at ALPHA = 1%, so that noise in a small
 * sample never decides a failure:
 * - maxFailureRatio (absolute): H0 "the candidate's failure ratio p <= L".
 *   Score (Wilson) test: z = (p^ - L) / sqrt(L (1 - L) / n). Its variance
 *   comes from the limit, not the estimate, so zero observed failures do not
 *   make the test degenerate.
 * - maxFailureRatioIncrease: H0 "p_candidate - p_stable <= d". Wald test on
 *   the difference with the Agresti-Caffo adjustment (one failure and one
 *   success added to each group; Agresti and Caffo, The American
 *   Statistician 54(4), 2000): it keeps its level with small counts and
 *   ratios near 0, where the plain Wald test has zero variance.
 * Why these and not Fisher's exact test: Fisher tests only "no difference"
 * (d = 0), so it cannot take the tolerated increase as the null margin, and
 * with the hundreds of thousands of requests a fleet serves it costs a sum
 * over every table; a z statistic is O(1) and, with the adjustment, close to
 * exact at the sample sizes minRequests ensures.
 *
 * Each gate ends as: `fail` (H0 rejected: the p-value is below ALPHA),
 * `pass` (at least minRequests, not rejected, and the point estimate within
 * the limit), `wait` (fewer than minRequests, or the estimate over the limit
 * but not yet significant: more requests will decide), or `skipped` (off, or
 * no stable requests to compare with). Overall: any fail fails, else any
 * wait waits, else pass. With no request counted for either version (no
 * traffic, or no stats reach wasmxds) the outcome is `no-data`: nothing to
 * judge and nothing to hold; a candidate with no request while the stable
 * has some waits like any other candidate short of minRequests.
 */

export const ALPHA = 0.01;

export interface FailureCounts {
  readonly failed: number;
  readonly total: number;
}

export interface FailureGates {
  /** Largest tolerated failure ratio of the candidate (0..1; 1 turns the gate off). */
  readonly maxFailureRatio: number;
  /** Largest tolerated candidate ratio minus stable ratio (0..1; 1 turns the gate off). */
  readonly maxFailureRatioIncrease: number;
  /** Requests (or connections) each side needs before a gate can pass or fail. */
  readonly minRequests: number;
}

export const DEFAULT_FAILURE_GATES: FailureGates = Object.freeze({ maxFailureRatio: 1, maxFailureRatioIncrease: 0.01, minRequests: 100 });

export type GateOutcome = "pass" | "fail" | "wait" | "skipped";
export type AnalysisOutcome = "pass" | "fail" | "wait" | "no-data";

export interface GateCheck {
  readonly gate: "maxFailureRatio" | "maxFailureRatioIncrease";
  readonly limit: number;
  /** The point estimate compared with the limit (ratio, or difference of ratios). */
  readonly estimate: number;
  readonly z?: number;
  /** One-sided p-value of H0 "within the limit". */
  readonly pValue?: number;
  readonly outcome: GateOutcome;
  readonly why: string;
}

export interface CanaryAnalysis {
  readonly outcome: AnalysisOutcome;
  readonly candidate: FailureCounts;
  readonly stable: FailureCounts;
  readonly checks: readonly GateCheck[];
  /** One line with the counts, ratios and test results (events, status). */
  readonly summary: string;
}

export function analyseCanary(candidate: FailureCounts, stable: FailureCounts, gates: FailureGates): CanaryAnalysis {
  // Nothing counted for either version: no traffic, or no stats reach wasmxds. Nothing to judge, so nothing to hold.
  if (candidate.total <= 0 && stable.total <= 0) {
    return { outcome: "no-data", candidate, stable, checks: [], summary: "no request counted for the candidate or the stable version" };
  }
  const checks = [absoluteCheck(candidate, gates), increaseCheck(candidate, stable, gates)];
  const outcome: AnalysisOutcome = checks.some((c) => c.outcome === "fail") ? "fail" : checks.some((c) => c.outcome === "wait") ? "wait" : "pass";
  const shown = checks.filter((c) => c.outcome !== "skipped" || c.limit < 1);
  const summary = `candidate ${counts(candidate)} vs stable ${counts(stable)}: ${shown.map((c) => `${c.gate} ${c.outcome} (${c.why})`).join("; ") || "no gate on"}`;
  return { outcome, candidate, stable, checks, summary };
}

function absoluteCheck(c: FailureCounts, g: FailureGates): GateCheck {
  const limit = g.maxFailureRatio;
  const estimate = ratio(c);
  const base = { gate: "maxFailureRatio" as const, limit, estimate };
  if (limit >= 1) return { ...base, outcome: "skipped", why: "off" };
  if (c.total < g.minRequests) return { ...base, outcome: "wait", why: `${c.total} of ${g.minRequests} requests` };
  if (limit <= 0) {
    // No failure tolerated: any failure is a breach, there is nothing to test.
    return c.failed > 0 ? { ...base, outcome: "fail", why: `${pct(estimate)} > 0` } : { ...base, outcome: "pass", why: "no failure" };
  }
  const z = (estimate - limit) / Math.sqrt((limit * (1 - limit)) / c.total);
  return decide(base, z, estimate <= limit, `${pct(estimate)} vs limit ${pct(limit)}`);
}

function increaseCheck(c: FailureCounts, s: FailureCounts, g: FailureGates): GateCheck {
  const limit = g.maxFailureRatioIncrease;
  const estimate = ratio(c) - ratio(s);
  const base = { gate: "maxFailureRatioIncrease" as const, limit, estimate };
  if (limit >= 1) return { ...base, outcome: "skipped", why: "off" };
  if (s.total <= 0) return { ...base, outcome: "skipped", why: "no stable request to compare with" };
  if (c.total < g.minRequests || s.total < g.minRequests) {
    return { ...base, outcome: "wait", why: `candidate ${c.total}, stable ${s.total} of ${g.minRequests} requests each` };
  }
  const pc = (c.failed + 1) / (c.total + 2);
  const ps = (s.failed + 1) / (s.total + 2);
  const z = (pc - ps - limit) / Math.sqrt((pc * (1 - pc)) / (c.total + 2) + (ps * (1 - ps)) / (s.total + 2));
  return decide(base, z, estimate <= limit, `increase ${pp(estimate)} vs limit ${pp(limit)}`);
}

function decide(base: Pick<GateCheck, "gate" | "limit" | "estimate">, z: number, within: boolean, what: string): GateCheck {
  const pValue = upperTail(z);
  const test = `z=${z.toFixed(2)}, p=${formatP(pValue)}`;
  if (pValue < ALPHA) return { ...base, z, pValue, outcome: "fail", why: `${what}, ${test} < ${ALPHA}` };
  if (within) return { ...base, z, pValue, outcome: "pass", why: `${what}, ${test}` };
  return { ...base, z, pValue, outcome: "wait", why: `${what}, not significant yet (${test})` };
}

/** P(Z > z) for a standard normal Z. */
export function upperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Complementary error function, fractional error below 1.2e-7 (Numerical Recipes, erfcc). */
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? y : 2 - y;
}

function ratio(c: FailureCounts): number {
  return c.total > 0 ? c.failed / c.total : 0;
}

function counts(c: FailureCounts): string {
  return `${c.failed}/${c.total} failed (${pct(ratio(c))})`;
}

function pct(r: number): string {
  return `${(r * 100).toFixed(2)}%`;
}

function pp(d: number): string {
  return `${(d * 100).toFixed(2)} pp`;
}

function formatP(p: number): string {
  return p < 0.0001 ? p.toExponential(1) : p.toFixed(4);
}
