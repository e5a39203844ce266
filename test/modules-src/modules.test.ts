/**
 * The proxy-wasm modules built from modules-src/ by scripts/build-modules.mjs
 * (AssemblyScript + @solo-io/proxy-runtime, ABI 0.2.0):
 *  - their exports and imports (the imports are recorded exactly, so a change
 *    in what a module needs from the host shows up here);
 *  - their behaviour, driven through a minimal mock proxy-wasm host that calls
 *    the callbacks in Envoy's order (context_create, vm_start, configure, then
 *    per stream context_create and the stream callbacks);
 *  - that the committed binaries are exactly what the sources build to.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";

// The project's TypeScript libs (ES2023, no DOM) do not declare the
// WebAssembly JS API, so this test types the small part of it that it uses.
interface WasmModule {
  readonly __wasmModule: unique symbol;
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: {
    new (bytes: Uint8Array): WasmModule;
    imports(mod: WasmModule): { module: string; name: string; kind: string }[];
    exports(mod: WasmModule): { name: string; kind: string }[];
  };
  Instance: new (mod: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const repo = resolve(import.meta.dirname, "../..");
const OUT_DIRS = { examples: "config/modules", fixtures: "test/fixtures/modules" } as const;

interface ModuleEntry {
  name: string;
  out: keyof typeof OUT_DIRS;
  filter: "http" | "network";
}
const MODULES: ModuleEntry[] = JSON.parse(readFileSync(join(repo, "modules-src/modules.json"), "utf8")).modules;

const committedPath = (m: ModuleEntry) => join(repo, OUT_DIRS[m.out], `${m.name}.wasm`);
const compiled = new Map<string, WasmModule>();
function compile(name: string): WasmModule {
  let mod = compiled.get(name);
  if (!mod) {
    const entry = MODULES.find((m) => m.name === name);
    if (!entry) throw new Error(`${name} is not in modules-src/modules.json`);
    mod = new Wasm.Module(readFileSync(committedPath(entry)));
    compiled.set(name, mod);
  }
  return mod;
}

// What every module imports: logging, buffer (configuration) access, the
// plugin_root_id property (the SDK looks up the root context factory by it),
// set_effective_context (SDK http-call support) and WASI proc_exit (the SDK's
// abort handler, selected with --use abort=abort_proc_exit).
const BASE_IMPORTS = [
  "env.proxy_get_buffer_bytes",
  "env.proxy_get_property",
  "env.proxy_log",
  "env.proxy_set_effective_context",
  "wasi_unstable.proc_exit",
];
const EXPECTED_IMPORTS: Record<string, string[]> = {
  add_header: [...BASE_IMPORTS, "env.proxy_add_header_map_value"],
  good_http: [...BASE_IMPORTS, "env.proxy_add_header_map_value"],
  conn_guard: [...BASE_IMPORTS, "env.proxy_close_stream"],
  good_network: [...BASE_IMPORTS, "env.proxy_close_stream"],
  abort_vm_start: BASE_IMPORTS,
  configure_false: BASE_IMPORTS,
  trap_nth_request: BASE_IMPORTS,
  trap_first_request: BASE_IMPORTS,
  network_trap: BASE_IMPORTS,
  trap_on_header: [...BASE_IMPORTS, "env.proxy_add_header_map_value", "env.proxy_get_header_map_pairs"],
  slow_vm_start: [...BASE_IMPORTS, "env.proxy_get_current_time_nanoseconds"],
  fail_ratio: [...BASE_IMPORTS, "env.proxy_send_local_response"],
  close_ratio: [...BASE_IMPORTS, "env.proxy_close_stream"],
};

describe("built proxy-wasm modules: interface", () => {
  it("lists the modules the task asks for", () => {
    expect(MODULES.map((m) => `${m.out}/${m.name}`).sort()).toEqual(
      [
        "examples/add_header",
        "examples/conn_guard",
        "fixtures/abort_vm_start",
        "fixtures/close_ratio",
        "fixtures/configure_false",
        "fixtures/fail_ratio",
        "fixtures/good_http",
        "fixtures/good_network",
        "fixtures/network_trap",
        "fixtures/slow_vm_start",
        "fixtures/trap_first_request",
        "fixtures/trap_nth_request",
        "fixtures/trap_on_header",
      ].sort(),
    );
  });

  for (const m of MODULES) {
    it(`${m.name}: exports the proxy-wasm 0.2.0 interface and imports only what Envoy provides`, () => {
      const mod = compile(m.name);
      const exports = Wasm.Module.exports(mod);
      const exported = (kind: string) => exports.filter((e) => e.kind === kind).map((e) => e.name);
      const functions = exported("function");

      expect(functions.filter((n) => n.startsWith("proxy_abi_version_"))).toEqual(["proxy_abi_version_0_2_0"]);
      expect(exported("memory")).toEqual(["memory"]);
      expect(functions).toContain("malloc");
      expect(functions).not.toContain("proxy_on_memory_allocate");
      expect(exported("global")).toEqual([]); // --runtime half: no __alloc/__retain/__rtti_base
      for (const cb of ["proxy_on_context_create", "proxy_on_vm_start", "proxy_on_configure", "proxy_on_done", "proxy_on_delete"]) {
        expect(functions).toContain(cb);
      }
      if (m.filter === "network") {
        expect(functions).toEqual(expect.arrayContaining(["proxy_on_new_connection", "proxy_on_downstream_data", "proxy_on_upstream_data"]));
      } else {
        expect(functions).toEqual(expect.arrayContaining(["proxy_on_request_headers", "proxy_on_response_headers"]));
        expect(functions).not.toContain("proxy_on_new_connection");
      }

      const imports = Wasm.Module.imports(mod);
      expect(imports.every((i) => i.kind === "function")).toBe(true);
      for (const i of imports) {
        const ok = (i.module === "env" && i.name.startsWith("proxy_")) || (i.module === "wasi_unstable" && i.name === "proc_exit");
        expect(ok, `${i.module}.${i.name}`).toBe(true);
      }
      expect(imports.map((i) => `${i.module}.${i.name}`).sort()).toEqual([...(EXPECTED_IMPORTS[m.name] ?? [])].sort());
    });
  }
});

// ---- a minimal mock proxy-wasm host -------------------------------------

const ROOT = 1; // root context id
const LOG_DEBUG = 1;
const LOG_INFO = 2;
const LOG_WARN = 3;
const LOG_CRITICAL = 5;
const BUFFER_VM_CONFIGURATION = 6;
const BUFFER_PLUGIN_CONFIGURATION = 7;
const MAP_REQUEST_HEADERS = 0;
const MAP_RESPONSE_HEADERS = 2;
const STREAM_DOWNSTREAM = 2;
const RESULT_OK = 0;
const RESULT_NOT_FOUND = 1;

type Pairs = [string, string][];

function serializePairs(pairs: Pairs): Buffer {
  const head = Buffer.alloc(4 + 8 * pairs.length);
  head.writeUInt32LE(pairs.length, 0);
  const data: Buffer[] = [];
  pairs.forEach(([k, v], i) => {
    const key = Buffer.from(k);
    const value = Buffer.from(v);
    head.writeUInt32LE(key.length, 4 + 8 * i);
    head.writeUInt32LE(value.length, 8 + 8 * i);
    data.push(key, Buffer.from([0]), value, Buffer.from([0]));
  });
  return Buffer.concat([head, ...data]);
}

interface HostOptions {
  rootId: string;
  pluginConfig?: string;
  vmConfig?: string;
}

class MockHost {
  readonly logs: { level: number; message: string }[] = [];
  readonly added: { map: number; key: string; value: string }[] = [];
  readonly closedStreams: number[] = [];
  readonly localReplies: { status: number; details: string }[] = [];
  requestHeaders: Pairs = [];
  exitCode: number | undefined;
  private readonly exports: Record<string, unknown>;
  private nextContext = ROOT + 1;

  constructor(
    name: string,
    private readonly options: HostOptions,
  ) {
    const mod = compile(name);
    const handlers: Record<string, (...args: number[]) => number | undefined> = {
      "env.proxy_log": (level, ptr, size) => {
        this.logs.push({ level, message: this.text(ptr, size) });
        return RESULT_OK;
      },
      "env.proxy_get_property": (pathPtr, pathSize, ptrPtr, sizePtr) => {
        if (this.text(pathPtr, pathSize) !== "plugin_root_id") return RESULT_NOT_FOUND;
        return this.give(Buffer.from(this.options.rootId), ptrPtr, sizePtr);
      },
      "env.proxy_get_buffer_bytes": (type, start, length, ptrPtr, sizePtr) => {
        const text =
          type === BUFFER_PLUGIN_CONFIGURATION ? this.options.pluginConfig : type === BUFFER_VM_CONFIGURATION ? this.options.vmConfig : undefined;
        if (text === undefined) return RESULT_NOT_FOUND;
        if (length === 0) return RESULT_OK; // like Envoy: nothing is written back
        return this.give(Buffer.from(text).subarray(start, start + length), ptrPtr, sizePtr);
      },
      "env.proxy_set_effective_context": () => RESULT_OK,
      "env.proxy_add_header_map_value": (map, keyPtr, keySize, valuePtr, valueSize) => {
        const key = this.text(keyPtr, keySize);
        const value = this.text(valuePtr, valueSize);
        this.added.push({ map, key, value });
        if (map === MAP_REQUEST_HEADERS) this.requestHeaders.push([key, value]);
        return RESULT_OK;
      },
      "env.proxy_get_header_map_pairs": (map, ptrPtr, sizePtr) =>
        this.give(serializePairs(map === MAP_REQUEST_HEADERS ? this.requestHeaders : []), ptrPtr, sizePtr),
      "env.proxy_send_local_response": (status, detailsPtr, detailsSize) => {
        this.localReplies.push({ status, details: this.text(detailsPtr, detailsSize) });
        return RESULT_OK;
      },
      "env.proxy_close_stream": (stream) => {
        this.closedStreams.push(stream);
        return RESULT_OK;
      },
      "env.proxy_get_current_time_nanoseconds": (ptr) => {
        new DataView(this.memory.buffer).setBigUint64(ptr, process.hrtime.bigint(), true);
        return RESULT_OK;
      },
      "wasi_unstable.proc_exit": (code) => {
        this.exitCode = code;
        return undefined;
      },
    };
    const imports: Record<string, Record<string, unknown>> = {};
    for (const i of Wasm.Module.imports(mod)) {
      const handler = handlers[`${i.module}.${i.name}`];
      if (!handler) throw new Error(`mock host lacks ${i.module}.${i.name}`);
      imports[i.module] ??= {};
      imports[i.module]![i.name] = handler;
    }
    this.exports = new Wasm.Instance(mod, imports).exports;
  }

  private get memory(): WasmMemory {
    return this.exports.memory as WasmMemory;
  }

  private text(ptr: number, size: number): string {
    return Buffer.from(this.memory.buffer, ptr, size).toString("utf8");
  }

  // Hands bytes to the module the way Envoy does: malloc, copy, write pointer and size.
  private give(data: Buffer, ptrPtr: number, sizePtr: number): number {
    const ptr = data.length > 0 ? this.call("malloc", data.length) : 0;
    new Uint8Array(this.memory.buffer).set(data, ptr);
    const view = new DataView(this.memory.buffer);
    view.setUint32(ptrPtr, ptr, true);
    view.setUint32(sizePtr, data.length, true);
    return RESULT_OK;
  }

  call(name: string, ...args: number[]): number {
    const fn = this.exports[name];
    if (typeof fn !== "function") throw new Error(`module does not export ${name}`);
    return (fn as (...a: number[]) => number | undefined)(...args) ?? 0;
  }

  start(): number {
    this.call("proxy_on_context_create", ROOT, 0);
    return this.call("proxy_on_vm_start", ROOT, Buffer.byteLength(this.options.vmConfig ?? ""));
  }

  configure(): number {
    return this.call("proxy_on_configure", ROOT, Buffer.byteLength(this.options.pluginConfig ?? ""));
  }

  newContext(): number {
    const id = this.nextContext++;
    this.call("proxy_on_context_create", id, ROOT);
    return id;
  }

  request(headers: Pairs = [[":path", "/"]]): { id: number; status: number } {
    const id = this.newContext();
    this.requestHeaders = [...headers];
    return { id, status: this.call("proxy_on_request_headers", id, headers.length, 1) };
  }

  logged(level: number): string[] {
    return this.logs.filter((l) => l.level === level).map((l) => l.message);
  }
}

function ready(name: string, options: HostOptions): MockHost {
  const host = new MockHost(name, options);
  expect(host.start()).toBe(1);
  expect(host.configure()).toBe(1);
  return host;
}

const TRAP = /unreachable/;

describe("built proxy-wasm modules: behaviour in a mock host", () => {
  it("add_header adds the configured header to requests and responses", () => {
    const host = ready("add_header", { rootId: "add_header", pluginConfig: '{"header":"x-demo","value":"wasmxds"}' });
    expect(host.logged(LOG_INFO)).toContain("add_header: configured, adding header x-demo: wasmxds");
    const { id, status } = host.request();
    expect(status).toBe(0);
    expect(host.call("proxy_on_response_headers", id, 0, 1)).toBe(0);
    expect(host.added).toEqual([
      { map: MAP_REQUEST_HEADERS, key: "x-demo", value: "wasmxds" },
      { map: MAP_RESPONSE_HEADERS, key: "x-demo", value: "wasmxds" },
    ]);
    // The rest of the stream and VM lifecycle.
    expect(host.call("proxy_on_done", id)).toBe(1);
    host.call("proxy_on_log", id);
    host.call("proxy_on_delete", id);
    expect(host.call("proxy_on_done", ROOT)).toBe(1);
    host.call("proxy_on_delete", ROOT);
  });

  it("add_header defaults to x-wasmxds: add_header and works without root_id", () => {
    const host = ready("add_header", { rootId: "", pluginConfig: "" });
    expect(host.request().status).toBe(0);
    expect(host.added).toEqual([{ map: MAP_REQUEST_HEADERS, key: "x-wasmxds", value: "add_header" }]);
  });

  it("add_header rejects configuration that is not JSON or has the wrong shape", () => {
    for (const bad of ["not json", "[]", '{"header":1}', '{"headr":"x"}', '{"header":""}', '{"header":"a"} x']) {
      const host = new MockHost("add_header", { rootId: "add_header", pluginConfig: bad });
      expect(host.start()).toBe(1);
      expect(host.configure(), bad).toBe(0);
    }
    const host = new MockHost("add_header", { rootId: "add_header", pluginConfig: ' {"value":"\\u00e9\\n"} ' });
    host.start();
    expect(host.configure()).toBe(1);
    host.request();
    expect(host.added).toEqual([{ map: MAP_REQUEST_HEADERS, key: "x-wasmxds", value: "é\n" }]);
  });

  it("an unknown root_id aborts in proxy_on_context_create", () => {
    const host = new MockHost("add_header", { rootId: "other" });
    expect(() => host.start()).toThrow(TRAP);
    expect(host.exitCode).toBe(255);
    expect(host.logged(LOG_CRITICAL).join("\n")).toContain("Missing root context factory for root id: other");
  });

  it("good_http is add_header under root_id good_http", () => {
    const host = ready("good_http", { rootId: "good_http" });
    host.request();
    expect(host.added).toEqual([{ map: MAP_REQUEST_HEADERS, key: "x-wasmxds", value: "add_header" }]);
    expect(() => new MockHost("good_http", { rootId: "add_header" }).start()).toThrow(TRAP);
  });

  it("close_ratio closes closePermille of every 1000 connections on their first data, evenly, and never traps", () => {
    const host = ready("close_ratio", { rootId: "close_ratio", pluginConfig: '{"closePermille": 100}' });
    const closed: number[] = [];
    for (let n = 1; n <= 1000; n++) {
      const conn = host.newContext();
      expect(host.call("proxy_on_new_connection", conn)).toBe(0);
      if (host.call("proxy_on_downstream_data", conn, 5, 0) === 1) closed.push(n);
    }
    expect(closed).toHaveLength(100);
    expect(closed.slice(0, 3)).toEqual([10, 20, 30]);
    expect(host.closedStreams).toEqual(closed.map(() => STREAM_DOWNSTREAM));

    for (const bad of ['{"closePermille":1001}', '{"closePermille":"5"}', '{"other":1}']) {
      const h = new MockHost("close_ratio", { rootId: "close_ratio", pluginConfig: bad });
      h.start();
      expect(h.configure(), bad).toBe(0);
    }
  });

  it("conn_guard closes a connection once it sent more than maxBytes", () => {
    const host = ready("conn_guard", { rootId: "conn_guard", pluginConfig: '{"maxBytes": 10}' });
    const conn = host.newContext();
    expect(host.call("proxy_on_new_connection", conn)).toBe(0);
    expect(host.call("proxy_on_downstream_data", conn, 6, 0)).toBe(0);
    expect(host.call("proxy_on_downstream_data", conn, 4, 0)).toBe(0);
    expect(host.closedStreams).toEqual([]);
    expect(host.call("proxy_on_downstream_data", conn, 1, 0)).toBe(1); // StopIteration
    expect(host.closedStreams).toEqual([STREAM_DOWNSTREAM]);
    expect(host.logged(LOG_WARN)).toEqual([`conn_guard: connection ${conn} sent 11 bytes, more than maxBytes 10; closing it`]);
    expect(host.call("proxy_on_downstream_data", conn, 1, 1)).toBe(1);
    expect(host.closedStreams).toHaveLength(1);
    // Counting is per connection.
    const other = host.newContext();
    expect(host.call("proxy_on_new_connection", other)).toBe(0);
    expect(host.call("proxy_on_downstream_data", other, 10, 1)).toBe(0);
    for (const id of [conn, other]) {
      host.call("proxy_on_downstream_connection_close", id, 1);
      expect(host.call("proxy_on_done", id)).toBe(1);
      host.call("proxy_on_log", id);
      host.call("proxy_on_delete", id);
    }
  });

  it("conn_guard and good_network validate their configuration", () => {
    for (const bad of ["x", '{"maxBytes":-1}', '{"maxBytes":1.5}', '{"maxBytes":"10"}', '{"max":1}']) {
      const host = new MockHost("conn_guard", { rootId: "conn_guard", pluginConfig: bad });
      host.start();
      expect(host.configure(), bad).toBe(0);
    }
    const host = ready("good_network", { rootId: "good_network" });
    expect(host.logged(LOG_INFO)).toContain("good_network: configured, maxBytes 1073741824");
    const conn = host.newContext();
    expect(host.call("proxy_on_downstream_data", conn, 1 << 20, 0)).toBe(0);
  });

  it("abort_vm_start aborts in proxy_on_vm_start", () => {
    const host = new MockHost("abort_vm_start", { rootId: "abort_vm_start" });
    expect(() => host.start()).toThrow(TRAP);
    expect(host.exitCode).toBe(255);
    expect(host.logged(LOG_CRITICAL).join("\n")).toMatch(
      /^abort_vm_start: deliberate abort in on_vm_start at: modules-src\/abort_vm_start\/index\.ts\(\d+:\d+\)$/,
    );
  });

  it('configure_false accepts only a configuration with "ok":true', () => {
    const result = (pluginConfig: string) => {
      const host = new MockHost("configure_false", { rootId: "configure_false", pluginConfig });
      expect(host.start()).toBe(1);
      return host.configure();
    };
    expect(result('{"ok":true}')).toBe(1);
    expect(result('{ "other": [1, {"a": null}], "ok": true }')).toBe(1);
    for (const bad of ["", "{}", '{"ok":false}', '{"ok":"true"}', '{"ok":1}', "ok:true", '{"ok":true']) {
      expect(result(bad), bad).toBe(0);
    }
  });

  it("trap_nth_request traps on request crashAfter, counting in the root context", () => {
    const host = ready("trap_nth_request", { rootId: "trap_nth_request", pluginConfig: '{"crashAfter": 3}' });
    expect(host.request().status).toBe(0);
    expect(host.request().status).toBe(0);
    expect(() => host.request()).toThrow(TRAP);
    expect(host.logged(LOG_DEBUG).filter((l) => l.startsWith("trap_nth_request:"))).toEqual([
      "trap_nth_request: request 1 of 3",
      "trap_nth_request: request 2 of 3",
      "trap_nth_request: request 3 of 3",
    ]);

    const byDefault = ready("trap_nth_request", { rootId: "trap_nth_request" });
    for (let i = 1; i < 50; i++) expect(byDefault.request().status).toBe(0);
    expect(() => byDefault.request()).toThrow(TRAP);

    for (const bad of ['{"crashAfter":0}', '{"crashAfter":"5"}', "5"]) {
      const host = new MockHost("trap_nth_request", { rootId: "trap_nth_request", pluginConfig: bad });
      host.start();
      expect(host.configure(), bad).toBe(0);
    }
  });

  it("fail_ratio answers 500 to failPermille of every 1000 requests, evenly, and never traps", () => {
    const tenth = ready("fail_ratio", { rootId: "fail_ratio", pluginConfig: '{"failPermille": 100}' });
    const stopped = Array.from({ length: 1000 }, () => tenth.request().status).map((s, i) => (s === 0 ? -1 : i + 1)).filter((n) => n > 0);
    expect(stopped).toHaveLength(100);
    expect(stopped.slice(0, 3)).toEqual([10, 20, 30]);
    expect(tenth.localReplies).toHaveLength(100);
    expect(tenth.localReplies[0]).toEqual({ status: 500, details: "fail_ratio" });

    const permille = ready("fail_ratio", { rootId: "fail_ratio", pluginConfig: '{"failPermille": 1}' });
    for (let i = 1; i < 1000; i++) expect(permille.request().status).toBe(0);
    expect(permille.request().status).toBe(1);
    expect(ready("fail_ratio", { rootId: "fail_ratio" }).request().status).toBe(0);

    for (const bad of ['{"failPermille":1001}', '{"failPermille":"5"}', '{"other":1}']) {
      const host = new MockHost("fail_ratio", { rootId: "fail_ratio", pluginConfig: bad });
      host.start();
      expect(host.configure(), bad).toBe(0);
    }
  });

  it("trap_on_header traps when x-crash is present, else adds x-checked: 1", () => {
    const host = ready("trap_on_header", { rootId: "trap_on_header", pluginConfig: "anything" });
    expect(host.request([[":path", "/"], ["x-other", "1"]]).status).toBe(0);
    expect(host.added).toEqual([{ map: MAP_REQUEST_HEADERS, key: "x-checked", value: "1" }]);
    expect(() => host.request([[":path", "/"], ["x-crash", ""]])).toThrow(TRAP);
    expect(() => ready("trap_on_header", { rootId: "trap_on_header" }).request([["x-crash", "yes"]])).toThrow(TRAP);
  });

  it("trap_first_request traps on the first request headers", () => {
    const host = ready("trap_first_request", { rootId: "trap_first_request" });
    expect(() => host.request()).toThrow(TRAP);
  });

  it("network_trap accepts a connection and traps on its first data", () => {
    const host = ready("network_trap", { rootId: "network_trap" });
    const conn = host.newContext();
    expect(host.call("proxy_on_new_connection", conn)).toBe(0);
    expect(() => host.call("proxy_on_downstream_data", conn, 5, 0)).toThrow(TRAP);
  });

  it('slow_vm_start busy-waits {"spinMs": N} of VM configuration', () => {
    const host = new MockHost("slow_vm_start", { rootId: "slow_vm_start", vmConfig: '{"spinMs": 50}' });
    const started = performance.now();
    expect(host.start()).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
    expect(host.configure()).toBe(1);
    expect(new MockHost("slow_vm_start", { rootId: "slow_vm_start", vmConfig: "{" }).start()).toBe(0);
  });

  it("slow_vm_start never returns from proxy_on_vm_start without VM configuration", async () => {
    // In a worker, with every import stubbed to return 0 (so root_id reads as "").
    const source = `
      const { parentPort, workerData } = require("node:worker_threads");
      const mod = new WebAssembly.Module(workerData);
      const imports = {};
      for (const i of WebAssembly.Module.imports(mod)) (imports[i.module] ??= {})[i.name] = () => 0;
      const { exports } = new WebAssembly.Instance(mod, imports);
      exports.proxy_on_context_create(1, 0);
      parentPort.postMessage("vm_start");
      parentPort.postMessage(exports.proxy_on_vm_start(1, 0));
    `;
    const bytes = readFileSync(committedPath({ name: "slow_vm_start", out: "fixtures", filter: "http" }));
    const worker = new Worker(source, { eval: true, workerData: bytes });
    const messages: unknown[] = [];
    try {
      await new Promise<void>((resolveStarted, reject) => {
        worker.on("error", reject);
        worker.on("message", (msg) => {
          messages.push(msg);
          if (msg === "vm_start") resolveStarted();
        });
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(messages).toEqual(["vm_start"]);
    } finally {
      await worker.terminate();
    }
  });
});

// Tagged slow (about 50 s of AssemblyScript builds): `npm run test:quick` skips it; CI and `npm test` run it.
describe.skipIf(process.env.WASMXDS_SKIP_SLOW === "1")("built proxy-wasm modules: reproducible [slow]", () => {
  it("rebuilding modules-src reproduces the committed binaries byte for byte", async () => {
    const out = await mkdtemp(join(tmpdir(), "wasmxds-modules-test-"));
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ["scripts/build-modules.mjs", "--out-examples", join(out, "examples"), "--out-fixtures", join(out, "fixtures")],
        { cwd: repo },
      );
      expect(stdout.trim().split("\n")).toHaveLength(MODULES.length);
      const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
      for (const m of MODULES) {
        const rebuilt = await readFile(join(out, m.out, `${m.name}.wasm`));
        const committed = await readFile(committedPath(m));
        expect(sha256(committed), `${OUT_DIRS[m.out]}/${m.name}.wasm is stale: run npm run build:modules`).toBe(sha256(rebuilt));
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 180_000);
});
