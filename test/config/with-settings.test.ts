/**
 * Rollback restores a known-good version's settings exactly: a setting the
 * good version did not have is removed, not kept from the newer filter
 * (regression: a newer `configuration` survived the rollback and the good
 * module was run, and pre-flighted, with the settings that broke it).
 */
import { describe, expect, it } from "vitest";
import { settingsOf, withSettings } from "../../src/config/filter-version";
import type { FilterConfig } from "../../src/config/model";
import { parseConfig } from "../../src/config/parse";

function filterOf(extra: string): FilterConfig {
  const config = parseConfig(`
filters:
  - { name: guard, kind: http, module: modules/guard.wasm, rootId: ""${extra} }
listeners:
  - { name: ingress, address: 127.0.0.1:10000, http: { filters: [guard], routes: [{ prefix: /, cluster: backend }] } }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`);
  return config.filters[0]!;
}

describe("withSettings", () => {
  it("drops settings the known-good version did not have", () => {
    const good = filterOf("");
    const newer = filterOf(', configuration: {"crashAfter":50}, vmId: v2, failurePolicy: FAIL_OPEN');
    const back = withSettings(newer, settingsOf(good));
    expect(back.configuration).toBeUndefined();
    expect(back.vmId).toBeUndefined();
    expect(back.failurePolicy).toBe("FAIL_CLOSED");
    expect(settingsOf(back)).toEqual(settingsOf(good));
  });

  it("keeps what is not a setting (name, module, health policy) from the newer filter", () => {
    const good = filterOf(', configuration: {"a":1}');
    const newer = filterOf(", health: { maxCrashes: 7 }");
    const back = withSettings(newer, settingsOf(good));
    expect(back.configuration).toBe('{"a":1}');
    expect(back.health?.maxCrashes).toBe(7);
    expect(back.name).toBe("guard");
  });
});
