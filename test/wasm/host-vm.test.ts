import { beforeAll, describe, expect, it } from "vitest";
import { FilterHeadersStatus, WasmResult } from "../../src/wasm/abi";
import {
  type CompiledProxyWasm,
  compileProxyWasm,
  MetricRegistry,
  ProxyWasmVm,
  VmFailedError,
  WasmExitError,
  WasmTrapError,
} from "../../src/wasm/host";
import { proxyImport, proxyWat, wat } from "../helpers/wat";

/** A filter exercising most host calls; data strings live at fixed offsets. */
const FILTER = proxyWat({
  imports: [
    proxyImport("proxy_log", 3),
    proxyImport("proxy_add_header_map_value", 5),
    proxyImport("proxy_get_header_map_value", 5),
    proxyImport("proxy_replace_header_map_value", 5),
    proxyImport("proxy_remove_header_map_value", 3),
    proxyImport("proxy_get_header_map_pairs", 3),
    proxyImport("proxy_set_header_map_pairs", 3),
    proxyImport("proxy_send_local_response", 8),
    proxyImport("proxy_set_buffer_bytes", 5),
    proxyImport("proxy_get_buffer_bytes", 5),
    proxyImport("proxy_define_metric", 4),
    '(import "env" "proxy_increment_metric" (func $proxy_increment_metric (param i32 i64) (result i32)))',
    proxyImport("proxy_get_property", 4),
    proxyImport("proxy_set_tick_period_milliseconds", 1),
    '(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))',
  ].join("\n"),
  body: `
  (data (i32.const 100) "x-added")
  (data (i32.const 110) "yes")
  (data (i32.const 120) ":path")
  (data (i32.const 130) "x-replace")
  (data (i32.const 140) "new")
  (data (i32.const 150) "x-remove")
  (data (i32.const 160) "reqs")
  (data (i32.const 170) "denied")
  (data (i32.const 180) "no")
  (data (i32.const 200) "REPLACED")
  (data (i32.const 220) "plugin_root_id")
  (data (i32.const 240) "x-deny")
  (data (i32.const 250) "x-crash")
  (data (i32.const 260) "tick")
  (data (i32.const 300) "\\40\\01\\00\\00\\06\\00\\00\\00")
  (data (i32.const 320) "hello\\n")
  (func (export "_initialize")
    (drop (call $fd_write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 28))))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $proxy_define_metric (i32.const 0) (i32.const 160) (i32.const 4) (i32.const 24)))
    (drop (call $proxy_set_tick_period_milliseconds (i32.const 100)))
    (if (i32.eqz (call $proxy_get_property (i32.const 220) (i32.const 14) (i32.const 16) (i32.const 20)))
      (then (drop (call $proxy_log (i32.const 2) (i32.load (i32.const 16)) (i32.load (i32.const 20))))))
    (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
    (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const 250) (i32.const 7) (i32.const 16) (i32.const 20)))
      (then unreachable))
    (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const 240) (i32.const 6) (i32.const 16) (i32.const 20)))
      (then
        (drop (call $proxy_send_local_response (i32.const 403) (i32.const 170) (i32.const 6)
          (i32.const 180) (i32.const 2) (i32.const 0) (i32.const 0) (i32.const -1)))
        (return (i32.const 0))))
    (drop (call $proxy_add_header_map_value (i32.const 0) (i32.const 100) (i32.const 7) (i32.const 110) (i32.const 3)))
    (drop (call $proxy_replace_header_map_value (i32.const 0) (i32.const 130) (i32.const 9) (i32.const 140) (i32.const 3)))
    (drop (call $proxy_remove_header_map_value (i32.const 0) (i32.const 150) (i32.const 8)))
    (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const 120) (i32.const 5) (i32.const 16) (i32.const 20)))
      (then (drop (call $proxy_log (i32.const 2) (i32.load (i32.const 16)) (i32.load (i32.const 20))))))
    (drop (call $proxy_increment_metric (i32.load (i32.const 24)) (i64.const 1)))
    (i32.const 0))
  (func (export "proxy_on_request_body") (param i32) (param $len i32) (param i32) (result i32)
    (drop (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (local.get $len) (i32.const 200) (i32.const 8)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 16) (i32.const 20)))
    (drop (call $proxy_set_header_map_pairs (i32.const 2) (i32.load (i32.const 16)) (i32.load (i32.const 20))))
    (i32.const 0))
  (func (export "proxy_on_tick") (param i32)
    (drop (call $proxy_log (i32.const 1) (i32.const 260) (i32.const 4))))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))`,
});

describe("ProxyWasmVm with a WAT filter", () => {
  let compiled: CompiledProxyWasm;
  beforeAll(async () => {
    compiled = await compileProxyWasm(await wat(FILTER));
  });

  function startedVm(metrics?: MetricRegistry): ProxyWasmVm {
    const vm = new ProxyWasmVm(compiled, { rootId: "filter", ...(metrics ? { metrics } : {}) });
    vm.start();
    expect(vm.onVmStart()).toBe(true);
    expect(vm.onConfigure()).toBe(true);
    return vm;
  }

  it("captures stdout from _initialize and proxy_log lines with their level", () => {
    const vm = startedVm();
    expect(vm.logs).toContainEqual({ level: "info", message: "hello", contextId: 0, source: "stdout" });
    // proxy_get_property(plugin_root_id) answered from the plugin configuration
    expect(vm.logs).toContainEqual({ level: "info", message: "filter", contextId: 1, source: "proxy_log" });
  });

  it("round-trips header maps: the module adds, replaces and removes, the host sees it", () => {
    const vm = startedVm();
    const http = vm.createHttpContext();
    const status = http.onRequestHeaders(
      [
        [":path", "/foo"],
        ["X-Replace", "old"],
        ["x-replace", "older"],
        ["x-remove", "gone"],
      ],
      false,
    );
    expect(status).toBe(FilterHeadersStatus.Continue);
    expect(http.requestHeaders?.pairs()).toEqual([
      [":path", "/foo"],
      ["x-replace", "new"],
      ["x-added", "yes"],
    ]);
    expect(vm.logs.at(-1)).toMatchObject({ level: "info", message: "/foo", contextId: http.id });
  });

  it("serializes pairs in the proxy-wasm format both ways (get_header_map_pairs → set_header_map_pairs)", () => {
    const vm = startedVm();
    const http = vm.createHttpContext();
    http.onRequestHeaders({ ":path": "/", "x-ünïcode": "välue", empty: "" }, true);
    http.onResponseHeaders([[":status", "200"]], true);
    expect(http.responseHeaders?.pairs()).toEqual(http.requestHeaders?.pairs());
    expect(http.responseHeaders?.get("x-ünïcode")).toBe("välue");
  });

  it("lets the module rewrite the request body", () => {
    const vm = startedVm();
    const http = vm.createHttpContext();
    http.onRequestHeaders({ ":path": "/" }, false);
    http.onRequestBody(new TextEncoder().encode("original body"), true);
    expect(new TextDecoder().decode(http.requestBody)).toBe("REPLACED");
  });

  it("records a local response and stops the chain", () => {
    const vm = startedVm();
    const http = vm.createHttpContext();
    const status = http.onRequestHeaders({ ":path": "/", "x-deny": "1" }, true);
    expect(status).toBe(FilterHeadersStatus.StopAllIterationAndWatermark);
    expect(http.localResponse).toMatchObject({ status: 403, details: "denied", headers: [] });
    expect(new TextDecoder().decode(http.localResponse?.body)).toBe("no");
  });

  it("counts metrics per name across VMs sharing a registry, and ticks", () => {
    const metrics = new MetricRegistry();
    const a = startedVm(metrics);
    const b = startedVm(metrics);
    for (const vm of [a, a, b]) vm.createHttpContext().onRequestHeaders({ ":path": "/" }, true);
    expect(metrics.get("reqs")).toMatchObject({ kind: "counter", value: 3n });
    expect(a.tickPeriodMs).toBe(100);
    a.tick();
    expect(a.logs.at(-1)).toMatchObject({ level: "debug", message: "tick" });
  });

  it("marks the VM failed on a trap and refuses every later call", () => {
    const vm = startedVm();
    const http = vm.createHttpContext();
    let thrown: unknown;
    try {
      http.onRequestHeaders({ ":path": "/", "x-crash": "1" }, true);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(WasmTrapError);
    const trap = thrown as WasmTrapError;
    expect(trap.callback).toBe("proxy_on_request_headers");
    expect(trap.detail).toBe("RuntimeError: unreachable");
    expect(trap.message).toBe("Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable");
    expect(trap.code).toBe("MODULE_REJECTED");
    expect(vm.failed).toBe(true);
    expect(vm.failure).toBe(trap);
    expect(() => vm.createHttpContext()).toThrow(VmFailedError);
    expect(() => http.onResponseHeaders({ ":status": "200" }, true)).toThrow(VmFailedError);
    expect(() => vm.tick()).toThrow(VmFailedError);
  });

  it("instantiates many VMs from one compiled module, each with its own memory", () => {
    const vms = Array.from({ length: 20 }, () => startedVm());
    for (const vm of vms) vm.createHttpContext().onRequestHeaders({ ":path": "/x" }, true);
    expect(vms.every((vm) => vm.logs.at(-1)?.message === "/x")).toBe(true);
  });
});

describe("ProxyWasmVm failure modes", () => {
  async function vmFor(body: string, imports: string): Promise<ProxyWasmVm> {
    return new ProxyWasmVm(await compileProxyWasm(await wat(proxyWat({ imports, body }))), { rootId: "r" });
  }

  it("turns proc_exit into a WasmExitError with the exit code", async () => {
    const vm = await vmFor(
      `(func (export "proxy_on_vm_start") (param i32 i32) (result i32) (call $exit (i32.const 3)) (i32.const 1))`,
      '(import "wasi_unstable" "proc_exit" (func $exit (param i32)))',
    );
    vm.start();
    let thrown: unknown;
    try {
      vm.onVmStart();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(WasmExitError);
    expect((thrown as WasmExitError).exitCode).toBe(3);
    expect((thrown as WasmExitError).callback).toBe("proxy_on_vm_start");
    expect(vm.failed).toBe(true);
  });

  it("traps a restricted host call during start, as Envoy does (restricted_callback)", async () => {
    const vm = await vmFor(
      `(func (export "_initialize") (drop (call $proxy_get_property (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 20))))`,
      proxyImport("proxy_get_property", 4),
    );
    expect(() => vm.start()).toThrow("Function: _initialize failed: Uncaught RuntimeError: restricted_callback");
  });

  it("rejects a callback with the wrong signature when starting (Bad function signature)", async () => {
    const vm = await vmFor(`(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))`, "");
    expect(() => vm.start()).toThrow(
      "Bad function signature for: proxy_on_request_headers, want: (i32,i32,i32)->i32, but the module exports: (i32,i32)->i32",
    );
    expect(vm.failed).toBe(true);
  });

  it("refuses to link an import Envoy does not provide", async () => {
    await expect(vmFor("", proxyImport("proxy_not_a_thing", 1))).rejects.toThrow(
      "Failed to load Wasm module due to a missing import: env.proxy_not_a_thing",
    );
  });

  it("calls the two-parameter header callbacks of ABI 0.1.0", async () => {
    const bytes = await wat(
      proxyWat({
        abi: ["0_1_0"],
        imports: proxyImport("proxy_get_header_map_value", 5),
        body: `
        (data (i32.const 100) "x-missing")
        (func (export "proxy_on_request_headers") (param i32 i32) (result i32)
          ;; 0.1.0 answers a missing header with Ok and an empty value
          (call $proxy_get_header_map_value (i32.const 0) (i32.const 100) (i32.const 9) (i32.const 16) (i32.const 20)))`,
      }),
    );
    const vm = new ProxyWasmVm(await compileProxyWasm(bytes));
    vm.start();
    expect(vm.abiVersion).toBe("0.1.0");
    // The callback returns the host's status: Ok (0, i.e. Continue), not NotFound.
    expect(vm.createHttpContext().onRequestHeaders({ a: "b" }, true)).toBe(WasmResult.Ok);
  });
});

describe("ProxyWasmVm shared queues and effective context", () => {
  it("delivers on_queue_ready after the enqueuing call and lets the module act on a stream through set_effective_context", async () => {
    const bytes = await wat(
      proxyWat({
        imports: [
          proxyImport("proxy_log", 3),
          proxyImport("proxy_register_shared_queue", 3),
          proxyImport("proxy_enqueue_shared_queue", 3),
          proxyImport("proxy_dequeue_shared_queue", 3),
          proxyImport("proxy_set_effective_context", 1),
          proxyImport("proxy_add_header_map_value", 5),
          proxyImport("proxy_continue_stream", 1),
        ].join("\n"),
        body: `
        (data (i32.const 400) "q")
        (data (i32.const 410) "payload")
        (data (i32.const 420) "x-from-queue")
        (data (i32.const 440) "1")
        (global $last (mut i32) (i32.const 0))
        (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
          (drop (call $proxy_register_shared_queue (i32.const 400) (i32.const 1) (i32.const 32)))
          (i32.const 1))
        (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
          (global.set $last (local.get $ctx))
          (drop (call $proxy_enqueue_shared_queue (i32.load (i32.const 32)) (i32.const 410) (i32.const 7)))
          (i32.const 1))
        (func (export "proxy_on_queue_ready") (param $root i32) (param $token i32)
          (if (i32.eqz (call $proxy_dequeue_shared_queue (local.get $token) (i32.const 16) (i32.const 20)))
            (then (drop (call $proxy_log (i32.const 2) (i32.load (i32.const 16)) (i32.load (i32.const 20))))))
          (drop (call $proxy_set_effective_context (global.get $last)))
          (drop (call $proxy_add_header_map_value (i32.const 0) (i32.const 420) (i32.const 12) (i32.const 440) (i32.const 1)))
          (drop (call $proxy_continue_stream (i32.const 0))))`,
      }),
    );
    const vm = new ProxyWasmVm(await compileProxyWasm(bytes), { rootId: "q", vmId: "vm1" });
    vm.start();
    vm.onVmStart();
    const http = vm.createHttpContext();
    expect(http.onRequestHeaders({ ":path": "/" }, true)).toBe(FilterHeadersStatus.StopIteration);
    expect(vm.logs.at(-1)).toMatchObject({ message: "payload", contextId: vm.rootContextId });
    expect(http.requestHeaders?.get("x-from-queue")).toBe("1");
    expect(http.continued).toEqual([0]);
  });
});
