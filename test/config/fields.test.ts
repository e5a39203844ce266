import { describe, expect, it } from "vitest";
import { parseEndpoint, parseListenAddress, parseModulesBaseUrl } from "../../src/config/address";
import { parseDuration } from "../../src/config/duration";
import { closest } from "../../src/config/suggest";

describe("parseDuration", () => {
  it("reads single units and sequences as whole milliseconds", () => {
    expect(parseDuration("250ms")).toEqual({ ms: 250 });
    expect(parseDuration("30s")).toEqual({ ms: 30_000 });
    expect(parseDuration("2m")).toEqual({ ms: 120_000 });
    expect(parseDuration("1h")).toEqual({ ms: 3_600_000 });
    expect(parseDuration("1m30s")).toEqual({ ms: 90_000 });
    expect(parseDuration("1.5s")).toEqual({ ms: 1500 });
    expect(parseDuration("0.1s")).toEqual({ ms: 100 });
  });
  it("rejects other spellings", () => {
    for (const bad of ["30", "s", "1 s", "-1s", "1.5ms", "1d", ""]) expect("error" in parseDuration(bad)).toBe(true);
  });
});

describe("addresses", () => {
  it("requires IP literals for listeners and brackets for IPv6", () => {
    expect(parseListenAddress("0.0.0.0:10000")).toEqual({ value: { host: "0.0.0.0", port: 10000 } });
    expect(parseListenAddress("[::]:10000")).toEqual({ value: { host: "::", port: 10000 } });
    expect(parseListenAddress("::1:80")).toEqual({
      error: 'expected HOST:PORT like 0.0.0.0:10000, got "::1:80" (put IPv6 addresses in brackets, e.g. [::1]:8080)',
    });
    expect(parseListenAddress("127.0.0.1:0")).toEqual({ error: 'expected a port from 1 to 65535 in "127.0.0.1:0"' });
  });
  it("accepts hostnames for endpoints", () => {
    expect(parseEndpoint("backend.svc.cluster.local:8080")).toEqual({ value: { host: "backend.svc.cluster.local", port: 8080 } });
    expect(parseEndpoint("bad_host:1")).toEqual({ error: 'expected a hostname or IP address, got "bad_host"' });
  });
  it("reads modulesBaseUrl", () => {
    expect(parseModulesBaseUrl("http://[::1]:18002")).toEqual({ value: { host: "::1", port: 18002, basePath: "" } });
    expect(parseModulesBaseUrl("http://m.example/x/")).toEqual({ value: { host: "m.example", port: 80, basePath: "/x" } });
    expect("error" in parseModulesBaseUrl("http://m.example/?q=1")).toBe(true);
  });
});

describe("closest", () => {
  it("finds plausible typos only", () => {
    expect(closest("rootid", ["rootId", "vmId"])).toBe("rootId");
    expect(closest("vm_id", ["rootId", "vmId"])).toBe("vmId");
    expect(closest("failure_policy", ["failurePolicy"])).toBe("failurePolicy");
    expect(closest("zzz", ["name", "kind"])).toBeUndefined();
  });
});
