/**
 * Issue 21, pre-flight: the module sees the filter's environment through
 * WASI (env.values, and host keys valued from preflightEnv, never from this
 * process's environment); the check reports precompiled sections and says
 * when Envoy will run the filter in another runtime than V8.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import type { FilterConfig } from "../../src/config/model";
import { type CheckRecord, ModuleChecks } from "../../src/control/module-checks";
import { silentLogger } from "../../src/logger";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { customSectionNames, preflight, precompiledReport } from "../../src/wasm/preflight";
import { withFilter } from "../helpers/config-issues";
import { envModule, loggedEnv } from "./env-module";

const V8_SECTION = "precompiled_wee8_v12.4.254.21_linux_x86_64";

/** `bytes` with a custom section `name` appended. */
function withSection(bytes: Uint8Array, name: string, payload = "x"): Uint8Array {
  const n = Buffer.from(name);
  const body = Buffer.concat([Buffer.from([n.length]), n, Buffer.from(payload)]);
  return Buffer.concat([bytes, Buffer.from([0, body.length]), body]);
}

function filter(fields: string): FilterConfig {
  const f = parseConfig(withFilter(`module: m.wasm\n${fields}`)).filters[0];
  if (!f) throw new Error("no filter");
  return f;
}

async function check(f: FilterConfig, bytes: Uint8Array): Promise<CheckRecord> {
  const records: CheckRecord[] = [];
  const checks = new ModuleChecks({ defaultSmoke: false, logger: silentLogger, onCheck: (r) => records.push(r) });
  await checks.check(f, { sha256: sha256Hex(bytes), bytes });
  const r = records[0];
  if (!r) throw new Error("no check ran");
  return r;
}

const envOf = (r: CheckRecord) => loggedEnv(r.logs.map((l) => ({ message: l.replace(/^\[[a-z]+\] /, "") })));

describe("pre-flight environment", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ["POD_NAME", "WASMXDS_LEAK"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it("the module reads exactly the given variables through environ_get", async () => {
    process.env.WASMXDS_LEAK = "control-plane-secret";
    const r = await preflight(await envModule(), { kind: "http", environment: { REGION: "eu-west-1", MODE: "strict" } });
    expect(r.ok).toBe(true);
    expect(loggedEnv(r.logs)).toEqual({ REGION: "eu-west-1", MODE: "strict" });
  });

  it("with no environment the module's on_configure refuses, and the check says so", async () => {
    process.env.WASMXDS_LEAK = "control-plane-secret";
    const r = await preflight(await envModule(), { kind: "http" });
    expect(r).toMatchObject({ ok: false, stage: "configure" });
    expect(loggedEnv(r.logs)).toEqual({});
  });

  it("host keys take preflightEnv values, never the control plane's own environment", async () => {
    process.env.POD_NAME = "from-the-control-plane";
    process.env.WASMXDS_LEAK = "control-plane-secret";
    const r = await check(
      filter("env: { hostKeys: [POD_NAME, WASMXDS_LEAK], values: { REGION: eu-west-1 } }\npreflightEnv: { POD_NAME: edge-7 }"),
      await envModule(),
    );
    expect(r.ok).toBe(true);
    // WASMXDS_LEAK has no preflightEnv value: absent, as Envoy leaves out a host key its environment lacks.
    expect(envOf(r)).toEqual({ REGION: "eu-west-1", POD_NAME: "edge-7" });
    expect(r.runtime).toBe("v8");
    expect(r.notes).toEqual([]);
  });

  it("a new preflightEnv is a new check, not a remembered verdict", async () => {
    const records: CheckRecord[] = [];
    const checks = new ModuleChecks({ defaultSmoke: false, logger: silentLogger, onCheck: (r, cached) => !cached && records.push(r) });
    const bytes = await envModule();
    const m = { sha256: sha256Hex(bytes), bytes };
    await checks.check(filter("env: { hostKeys: [POD_NAME] }\npreflightEnv: { POD_NAME: a }"), m);
    await checks.check(filter("env: { hostKeys: [POD_NAME] }\npreflightEnv: { POD_NAME: b }"), m);
    expect(records.map(envOf)).toEqual([{ POD_NAME: "a" }, { POD_NAME: "b" }]);
  });
});

describe("pre-flight precompiled sections and runtime", () => {
  it("reads custom section names", async () => {
    const bytes = withSection(withSection(await envModule(), V8_SECTION), "wamr-aot");
    expect(customSectionNames(bytes).slice(-2)).toEqual([V8_SECTION, "wamr-aot"]);
  });

  it("says whether Envoy's V8 would use or ignore them", async () => {
    const bytes = withSection(await envModule(), V8_SECTION);
    const env = "env: { values: { A: '1' } }";
    const off = await check(filter(env), bytes);
    expect(off.notes).toEqual([`precompiled code: ignored: allowPrecompiled is not set, so Envoy compiles the bytecode (sections named precompiled_* are stripped first): ${V8_SECTION}`]);
    const on = await check(filter(`${env}\nallowPrecompiled: true`), bytes);
    expect(on.notes[0]).toMatch(new RegExp(`^precompiled code: used only by an Envoy whose v8 build has exactly this name, ignored by any other .*: ${V8_SECTION}; a matching section that does not deserialize fails the load`));
    expect(precompiledReport([], "v8", true)?.note).toBe("allowPrecompiled is set, but the module has no precompiled section: Envoy compiles the bytecode");
    expect(precompiledReport(["wamr-aot"], "v8", true)?.note).toMatch(/^ignored: none is for v8 \(Envoy's v8 looks for precompiled_wee8_v<V8 version>_<platform>\)/);
  });

  it("notes another runtime: the check ran in V8", async () => {
    const r = await check(filter("runtime: wamr\nallowPrecompiled: true\nenv: { values: { A: '1' } }"), withSection(await envModule(), "wamr-aot"));
    expect(r.ok).toBe(true);
    expect(r.runtime).toBe("wamr");
    expect(r.notes[0]).toMatch(/^checked in V8, but Envoy runs this filter in wamr/);
    expect(r.notes[1]).toContain("Envoy was compiled without support for it");
    expect(r.notes[2]).toMatch(/^precompiled code: used: Envoy's WAMR loads wamr-aot as AOT code/);
  });
});
