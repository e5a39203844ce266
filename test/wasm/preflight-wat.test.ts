import { describe, expect, it } from "vitest";
import { preflight } from "../../src/wasm/preflight";
import { proxyImport, proxyWat, wat } from "../helpers/wat";

const OK_CALLBACKS = `
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))`;

async function check(parts: Parameters<typeof proxyWat>[0], opts: Partial<Parameters<typeof preflight>[1]> = {}) {
  return preflight(await wat(proxyWat(parts)), { kind: "http", ...opts });
}

describe("preflight: compile and static ABI stage", () => {
  it("rejects bytes that are not wasm with V8's message", async () => {
    const r = await preflight(new TextEncoder().encode("not wasm at all"), { kind: "http" });
    expect(r).toMatchObject({ ok: false, stage: "compile" });
    if (!r.ok) expect(r.reason).toMatch(/expected magic word 00 61 73 6d/);
  });

  it("rejects an unknown ABI marker", async () => {
    const r = await check({ abi: ["0_3_0"] });
    expect(r).toMatchObject({ ok: false, stage: "abi" });
    if (!r.ok) {
      expect(r.reason).toContain("Missing or unknown Proxy-Wasm ABI version");
      expect(r.reason).toContain("proxy_abi_version_0_3_0");
    }
  });

  it("rejects a module without any ABI marker", async () => {
    const r = await check({ abi: [] });
    expect(r).toMatchObject({ ok: false, stage: "abi" });
  });

  it("rejects two ABI markers", async () => {
    const r = await check({ abi: ["0_1_0", "0_2_0"] });
    expect(r).toMatchObject({ ok: false, stage: "abi" });
    if (!r.ok) expect(r.reason).toMatch(/proxy_abi_version_0_1_0, proxy_abi_version_0_2_0.*exactly one/);
  });

  it("names an import Envoy does not provide", async () => {
    const r = await check({ imports: '(import "env" "foo" (func (param i32)))' });
    expect(r).toMatchObject({ ok: false, stage: "abi", reason: "import env.foo is not provided by Envoy" });
  });

  it("names an import that exists only for another ABI version", async () => {
    const r = await check({ abi: ["0_1_0"], imports: proxyImport("proxy_continue_stream", 1) });
    if (r.ok) throw new Error("expected a failure");
    expect(r.reason).toBe("import env.proxy_continue_stream is not provided by Envoy for ABI 0.1.0 (only for ABI 0.2.0, 0.2.1)");
  });

  it("names an import with the wrong signature", async () => {
    const r = await check({ imports: proxyImport("proxy_log", 2) });
    if (r.ok) throw new Error("expected a failure");
    expect(r.reason).toBe("import env.proxy_log has signature (i32,i32)->i32, Envoy provides (i32,i32,i32)->i32");
  });

  it("rejects global imports", async () => {
    const r = await check({ imports: '(import "env" "x" (global i32))' });
    expect(r).toMatchObject({ ok: false, stage: "abi", reason: "imports global env.x: Envoy cannot link global imports" });
  });

  it("names a callback with the wrong signature for the ABI version", async () => {
    const r = await check({
      body: '(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))',
    });
    expect(r).toMatchObject({
      ok: false,
      stage: "abi",
      reason:
        "export proxy_on_request_headers has signature (i32,i32)->i32, Envoy expects (i32,i32,i32)->i32 for ABI 0.2.0",
    });
  });

  it("accepts the two-parameter header callback under ABI 0.1.0", async () => {
    const r = await check({
      abi: ["0_1_0"],
      body: `${OK_CALLBACKS}(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))`,
    });
    expect(r).toMatchObject({ ok: true, abiVersion: "0.1.0" });
  });

  it("rejects a module without malloc or proxy_on_memory_allocate", async () => {
    const r = await check({ allocator: null });
    expect(r).toMatchObject({ ok: false, stage: "abi" });
    if (!r.ok) expect(r.reason).toContain("neither malloc nor proxy_on_memory_allocate");
  });

  it("rejects a malloc with the wrong signature", async () => {
    const r = await check({ allocator: null, body: '(func (export "malloc") (param i64) (result i32) (i32.const 0))' });
    if (r.ok) throw new Error("expected a failure");
    expect(r.reason).toBe("export malloc has signature (i64)->i32, Envoy expects (i32)->i32 for ABI 0.2.0");
  });

  it("rejects a module without memory", async () => {
    const r = await check({ memory: false });
    if (r.ok) throw new Error("expected a failure");
    expect(r.reason).toContain("exports no memory");
  });

  it("reports every problem at once", async () => {
    const r = await check({
      allocator: null,
      imports: '(import "env" "foo" (func)) (import "env" "g" (global i32))',
    });
    if (r.ok) throw new Error("expected a failure");
    expect(r.reason.split("; ")).toHaveLength(3);
  });
});

describe("preflight: start, configure and the time/memory budget", () => {
  it("passes a well-formed module and returns its interface and logs", async () => {
    const r = await check(
      {
        allocator: "proxy_on_memory_allocate",
        imports: proxyImport("proxy_log", 3),
        body: `
        (data (i32.const 100) "started")
        (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
          (drop (call $proxy_log (i32.const 3) (i32.const 100) (i32.const 7))) (i32.const 1))
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))`,
      },
      { smoke: true },
    );
    if (!r.ok) throw new Error(`${r.stage}: ${r.reason}`);
    expect(r.abiVersion).toBe("0.2.0");
    expect(r.logs).toEqual([{ level: "warn", message: "started", contextId: 1, source: "proxy_log" }]);
    expect(r.imports).toEqual([
      { module: "env", name: "proxy_log", kind: "function", signature: "(i32,i32,i32)->i32" },
    ]);
    expect(r.exports).toContainEqual({
      name: "proxy_on_request_headers",
      kind: "function",
      signature: "(i32,i32,i32)->i32",
    });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("fails the start stage when proxy_on_vm_start returns false", async () => {
    const r = await check({ body: '(func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 0))' });
    expect(r).toMatchObject({ ok: false, stage: "start" });
    if (!r.ok) expect(r.reason).toContain("proxy_on_vm_start returned false");
  });

  it("fails the configure stage when proxy_on_configure traps", async () => {
    const r = await check({ body: '(func (export "proxy_on_configure") (param i32 i32) (result i32) unreachable)' });
    expect(r).toMatchObject({
      ok: false,
      stage: "configure",
      reason: "Function: proxy_on_configure failed: Uncaught RuntimeError: unreachable",
    });
  });

  it("kills a module that loops forever and keeps the logs it wrote first", async () => {
    const r = await check(
      {
        imports: proxyImport("proxy_log", 3),
        body: `
        (data (i32.const 100) "about to spin")
        (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
          (drop (call $proxy_log (i32.const 2) (i32.const 100) (i32.const 13)))
          (loop $forever (br $forever))
          (i32.const 1))`,
      },
      { timeoutMs: 300 },
    );
    expect(r).toMatchObject({ ok: false, stage: "timeout" });
    if (!r.ok) {
      expect(r.reason).toBe("timed out after 300 ms in proxy_on_vm_start (start stage)");
      expect(r.logs.map((l) => l.message)).toEqual(["about to spin"]);
    }
  });

  it("enforces the memory limit after each step", async () => {
    const r = await check(
      {
        body: `(func (export "proxy_on_configure") (param i32 i32) (result i32)
          (drop (memory.grow (i32.const 64))) (i32.const 1))`,
      },
      { maxMemoryBytes: 2 * 1024 * 1024 },
    );
    expect(r).toMatchObject({ ok: false, stage: "configure" });
    if (!r.ok) expect(r.reason).toMatch(/memory reached \d+ bytes after proxy_on_configure, over the limit of 2097152/);
  });

  it("fails the smoke stage on a trap in a request callback", async () => {
    const r = await check(
      { body: `${OK_CALLBACKS}(func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) unreachable)` },
      { smoke: true },
    );
    expect(r).toMatchObject({
      ok: false,
      stage: "smoke",
      reason: "Function: proxy_on_response_body failed: Uncaught RuntimeError: unreachable",
    });
  });
});
