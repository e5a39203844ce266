/**
 * The proxy-wasm host driving the real AssemblyScript modules, many
 * requests per VM, the way the Envoy simulator will.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { FilterStatus, StreamType } from "../../src/wasm/abi";
import {
  type CompiledProxyWasm,
  compileProxyWasm,
  ProxyWasmVm,
  type ProxyWasmVmOptions,
  VmFailedError,
  WasmTrapError,
} from "../../src/wasm/host";

const load = (name: string) =>
  compileProxyWasm(readFileSync(fileURLToPath(new URL(`../fixtures/modules/${name}.wasm`, import.meta.url))));

function configured(compiled: CompiledProxyWasm, rootId: string, opts: ProxyWasmVmOptions = {}): ProxyWasmVm {
  const vm = new ProxyWasmVm(compiled, { rootId, ...opts });
  vm.start();
  expect(vm.onVmStart()).toBe(true);
  expect(vm.onConfigure()).toBe(true);
  return vm;
}

const request = (vm: ProxyWasmVm, extra: Record<string, string> = {}) => {
  const http = vm.createHttpContext();
  http.onRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "example.com", ...extra }, true);
  http.onResponseHeaders({ ":status": "200" }, true);
  http.finish();
  return http;
};

describe("host with real modules", () => {
  const compiled: Record<string, CompiledProxyWasm> = {};
  beforeAll(async () => {
    for (const n of ["good_http", "good_network", "trap_nth_request", "trap_on_header"]) compiled[n] = await load(n);
  });
  const mod = (n: string) => compiled[n] as CompiledProxyWasm;

  it("good_http adds its configured header to requests and responses", () => {
    const vm = configured(mod("good_http"), "good_http", {
      pluginConfiguration: '{"header":"x-demo","value":"hi"}',
    });
    for (let i = 0; i < 100; i++) {
      const http = request(vm);
      expect(http.requestHeaders?.get("x-demo")).toBe("hi");
      expect(http.responseHeaders?.get("x-demo")).toBe("hi");
    }
    expect(vm.failed).toBe(false);
  });

  it("trap_nth_request passes N-1 requests, traps on the Nth, then the VM stays failed", () => {
    const vm = configured(mod("trap_nth_request"), "trap_nth_request", { pluginConfiguration: '{"crashAfter":3}' });
    request(vm);
    request(vm);
    expect(() => request(vm)).toThrow(WasmTrapError);
    expect(vm.failure?.message).toBe("Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable");
    expect(() => request(vm)).toThrow(VmFailedError);
    // a fresh VM from the same compiled module starts counting again, like Envoy's VM reload
    const fresh = configured(mod("trap_nth_request"), "trap_nth_request", { pluginConfiguration: '{"crashAfter":3}' });
    request(fresh);
    expect(fresh.failed).toBe(false);
  });

  it("trap_on_header traps only when the request carries x-crash", () => {
    const vm = configured(mod("trap_on_header"), "trap_on_header");
    request(vm, { "x-fine": "1" });
    expect(() => request(vm, { "x-crash": "1" })).toThrow(/proxy_on_request_headers failed/);
    expect(vm.failed).toBe(true);
  });

  it("good_network (conn_guard) closes a connection that sends more than maxBytes", () => {
    const vm = configured(mod("good_network"), "good_network", { pluginConfiguration: '{"maxBytes":8}' });
    const conn = vm.createNetworkContext();
    expect(conn.onNewConnection()).toBe(FilterStatus.Continue);
    expect(conn.onDownstreamData(new Uint8Array(5), false)).toBe(FilterStatus.Continue);
    expect(conn.onDownstreamData(new Uint8Array(5), false)).toBe(FilterStatus.StopIteration);
    expect(conn.closed).toEqual([StreamType.Downstream]);
    expect(vm.logs.some((l) => l.level === "warn" && l.message.includes("closing it"))).toBe(true);
    conn.onDownstreamConnectionClose();
    conn.finish();
  });
});
