/**
 * Pre-flight of the real AssemblyScript proxy-wasm modules built from
 * modules-src/ (root_id = module name).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type PreflightOptions, preflight } from "../../src/wasm/preflight";

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../fixtures/modules/${name}.wasm`, import.meta.url)));
const example = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../config/modules/${name}.wasm`, import.meta.url)));

async function run(bytes: Uint8Array, name: string, opts: Partial<PreflightOptions> & Pick<PreflightOptions, "kind">) {
  return preflight(bytes, { rootId: name, ...opts });
}

describe("preflight with real modules", () => {
  it.each([
    ["good_http", "http", fixture],
    ["good_network", "network", fixture],
    ["add_header", "http", example],
    ["conn_guard", "network", example],
  ] as const)("passes %s (%s) through every stage with smoke traffic", async (name, kind, load) => {
    const r = await run(load(name), name, { kind, smoke: true });
    if (!r.ok) throw new Error(`${r.stage}: ${r.reason}`);
    expect(r.abiVersion).toBe("0.2.0");
    expect(r.logs.some((l) => l.level === "info" && l.message.startsWith(`${name}: configured`))).toBe(true);
    expect(r.imports.map((i) => `${i.module}.${i.name}`)).toContain("env.proxy_log");
    expect(r.exports.map((e) => e.name)).toContain("proxy_on_configure");
  });

  it("fails abort_vm_start at the start stage and keeps its abort message", async () => {
    const r = await run(fixture("abort_vm_start"), "abort_vm_start", { kind: "http" });
    if (r.ok) throw new Error("expected a failure");
    expect(r.stage).toBe("start");
    expect(r.reason).toContain("proxy_on_vm_start");
    expect(r.logs.some((l) => l.message.includes("deliberate abort"))).toBe(true);
  });

  it("fails configure_false at the configure stage unless given {\"ok\":true}", async () => {
    const bad = await run(fixture("configure_false"), "configure_false", { kind: "http" });
    expect(bad).toMatchObject({ ok: false, stage: "configure" });
    if (!bad.ok) expect(bad.reason).toContain("proxy_on_configure returned false");
    const good = await run(fixture("configure_false"), "configure_false", {
      kind: "http",
      pluginConfiguration: '{"ok":true}',
      smoke: true,
    });
    expect(good.ok).toBe(true);
  });

  it("fails trap_first_request at the smoke stage, naming the callback", async () => {
    const r = await run(fixture("trap_first_request"), "trap_first_request", { kind: "http", smoke: true });
    expect(r).toMatchObject({
      ok: false,
      stage: "smoke",
      reason: "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable",
    });
  });

  it("passes trap_first_request without smoke traffic (nothing runs a request)", async () => {
    const r = await run(fixture("trap_first_request"), "trap_first_request", { kind: "http" });
    expect(r.ok).toBe(true);
  });

  it("fails network_trap at the smoke stage", async () => {
    const r = await run(fixture("network_trap"), "network_trap", { kind: "network", smoke: true });
    if (r.ok) throw new Error("expected a failure");
    expect(r.stage).toBe("smoke");
    expect(r.reason).toMatch(/^Function: proxy_on_\w+ failed: Uncaught RuntimeError: unreachable$/);
  });

  it("times out slow_vm_start in proxy_on_vm_start and keeps its log lines", async () => {
    const r = await run(fixture("slow_vm_start"), "slow_vm_start", { kind: "http", timeoutMs: 500 });
    if (r.ok) throw new Error("expected a failure");
    expect(r.stage).toBe("timeout");
    expect(r.reason).toBe("timed out after 500 ms in proxy_on_vm_start (start stage)");
    expect(r.logs.length).toBeGreaterThan(0);
  });

  it("passes trap_nth_request and trap_on_header: one plain smoke request does not trigger them", async () => {
    const nth = await run(fixture("trap_nth_request"), "trap_nth_request", {
      kind: "http",
      smoke: true,
      pluginConfiguration: '{"crashAfter":3}',
    });
    expect(nth.ok).toBe(true);
    const onHeader = await run(fixture("trap_on_header"), "trap_on_header", { kind: "http", smoke: true });
    expect(onHeader.ok).toBe(true);
  });
});
