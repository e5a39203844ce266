/**
 * The simulator's VM sharing keeps Envoy's environment rule (docs/ENVOY.md
 * "Environment variables"): two plugins with the same vm_id, VM
 * configuration and code share a base VM, and every VM made from it has the
 * environment of the plugin that created it, not the later plugin's.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger";
import { StatsStore } from "../../src/sim/stats/stats-store";
import type { PluginSpec } from "../../src/sim/wasm/plugin-spec";
import { WasmRuntime } from "../../src/sim/wasm/wasm-runtime";
import { FakeClock } from "../../src/time/fake-clock";
import { envModule, loggedEnv } from "./env-module";

function spec(name: string, code: Uint8Array, environment: Record<string, string>, hostEnvKeys: string[] = []): PluginSpec {
  return {
    kind: "http",
    name,
    rootId: "",
    vmId: "shared",
    runtime: "envoy.wasm.runtime.v8",
    code: { kind: "local", bytes: code },
    vmConfiguration: new Uint8Array(0),
    pluginConfiguration: new Uint8Array(0),
    failurePolicy: "FAIL_CLOSED",
    reloadBaseMs: 1000,
    environment,
    hostEnvKeys,
    allowPrecompiled: false,
  };
}

describe("simulated VM sharing and the environment", () => {
  const runtime = (hostEnv: Record<string, string> = {}) =>
    new WasmRuntime({
      enabled: true,
      stats: new StatsStore(),
      clock: new FakeClock(),
      random: () => 0,
      logger: silentLogger,
      properties: {},
      host: { env: hostEnv },
      resolveCluster: () => undefined,
      onPluginLoaded: () => {},
    });

  it("a second plugin with the same VM key runs with the first plugin's environment", async () => {
    const code = await envModule();
    const wasm = runtime();
    const a = wasm.createPlugin(spec("a", code, { WHO: "a" }), "initializing");
    const b = wasm.createPlugin(spec("b", code, { WHO: "b" }), "initializing");
    expect(loggedEnv(a.workerVm?.logs ?? [])).toEqual({ WHO: "a" });
    expect(loggedEnv(b.workerVm?.logs ?? [])).toEqual({ WHO: "a" });
  });

  it("host keys come from the host environment, after the fixed values", async () => {
    const wasm = runtime({ POD_NAME: "pod-1", OTHER: "x" });
    const p = wasm.createPlugin(spec("p", await envModule(), { REGION: "eu" }, ["POD_NAME", "MISSING"]), "initializing");
    expect(loggedEnv(p.workerVm?.logs ?? [])).toEqual({ REGION: "eu", POD_NAME: "pod-1" });
  });
});
