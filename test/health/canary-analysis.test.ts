/**
 * The canary analysis statistics (src/health/canary-analysis.ts) on the
 * worked numbers of docs/HEALTH.md "Canary analysis".
 */
import { describe, expect, it } from "vitest";
import { analyseCanary, DEFAULT_FAILURE_GATES as G, upperTail } from "../../src/health/canary-analysis";

describe("canary analysis", () => {
  it("the normal tail matches tables", () => {
    expect(upperTail(0)).toBeCloseTo(0.5, 6);
    expect(upperTail(1.96)).toBeCloseTo(0.025, 4);
    expect(upperTail(2.326)).toBeCloseTo(0.01, 4);
    expect(upperTail(-1)).toBeCloseTo(0.8413, 4);
  });

  it("10% failures against a stable 0.1% fail the increase gate once both have 100 requests", () => {
    const a = analyseCanary({ failed: 10, total: 100 }, { failed: 1, total: 1000 }, G);
    expect(a.outcome).toBe("fail");
    const inc = a.checks.find((c) => c.gate === "maxFailureRatioIncrease")!;
    expect(inc.z).toBeCloseTo(3.12, 2);
    expect(inc.pValue).toBeLessThan(0.001);
    expect(a.summary).toContain("10/100 failed (10.00%)");
    expect(a.summary).toContain("z=3.12");
  });

  it("0.1% against 0.1% passes", () => {
    const a = analyseCanary({ failed: 1, total: 1000 }, { failed: 3, total: 3000 }, G);
    expect(a.outcome).toBe("pass");
  });

  it("a handful of requests never decides: fewer than minRequests waits, whatever they show", () => {
    expect(analyseCanary({ failed: 5, total: 20 }, { failed: 1, total: 1000 }, G).outcome).toBe("wait");
    expect(analyseCanary({ failed: 0, total: 20 }, { failed: 0, total: 1000 }, G).outcome).toBe("wait");
    expect(analyseCanary({ failed: 0, total: 500 }, { failed: 0, total: 50 }, G).outcome).toBe("wait");
    expect(analyseCanary({ failed: 0, total: 0 }, { failed: 0, total: 1000 }, G).outcome).toBe("wait");
    expect(analyseCanary({ failed: 0, total: 0 }, { failed: 0, total: 0 }, G).outcome).toBe("no-data");
  });

  it("over the limit but not significant yet waits for more requests; significant later fails", () => {
    expect(analyseCanary({ failed: 3, total: 100 }, { failed: 0, total: 300 }, G).outcome).toBe("wait");
    expect(analyseCanary({ failed: 30, total: 1000 }, { failed: 0, total: 3000 }, G).outcome).toBe("fail");
  });

  it("the absolute gate: a score test against maxFailureRatio; 1 is off, 0 tolerates no failure", () => {
    const gates = { ...G, maxFailureRatio: 0.02, maxFailureRatioIncrease: 1 };
    expect(analyseCanary({ failed: 15, total: 500 }, { failed: 0, total: 0 }, gates).outcome).toBe("wait");
    const fail = analyseCanary({ failed: 40, total: 1000 }, { failed: 0, total: 0 }, gates);
    expect(fail.outcome).toBe("fail");
    expect(fail.checks[0]?.z).toBeCloseTo(4.52, 2);
    expect(analyseCanary({ failed: 10, total: 1000 }, { failed: 0, total: 0 }, gates).outcome).toBe("pass");
    expect(analyseCanary({ failed: 1, total: 100 }, { failed: 0, total: 0 }, { ...gates, maxFailureRatio: 0 }).outcome).toBe("fail");
  });

  it("no stable request: the increase gate is skipped, the absolute gate still applies", () => {
    const a = analyseCanary({ failed: 50, total: 500 }, { failed: 0, total: 0 }, G);
    expect(a.checks.find((c) => c.gate === "maxFailureRatioIncrease")?.outcome).toBe("skipped");
    expect(a.outcome).toBe("pass");
    expect(analyseCanary({ failed: 50, total: 500 }, { failed: 0, total: 0 }, { ...G, maxFailureRatio: 0.05 }).outcome).toBe("fail");
  });
});
