import { describe, expect, it } from "vitest";
import {
  callbackSignature,
  formatSig,
  hostFunction,
  hostFunctionsFor,
  readModuleInterface,
  WasmParseError,
} from "../../src/wasm/abi";
import { wat } from "../helpers/wat";

const fmt = (s: ReturnType<typeof hostFunction>) => (s ? formatSig(s) : undefined);

describe("ABI tables", () => {
  it("lists the host functions per ABI version with Envoy's signatures", () => {
    expect(fmt(hostFunction("0.2.0", "env", "proxy_log"))).toBe("(i32,i32,i32)->i32");
    expect(fmt(hostFunction("0.2.1", "env", "proxy_increment_metric"))).toBe("(i32,i64)->i32");
    expect(fmt(hostFunction("0.2.0", "env", "proxy_grpc_call"))).toBe(
      "(i32,i32,i32,i32,i32,i32,i32,i32,i32,i32,i32,i32)->i32",
    );
    expect(fmt(hostFunction("0.2.0", "wasi_snapshot_preview1", "fd_seek"))).toBe("(i32,i64,i32,i32)->i32");
    expect(fmt(hostFunction("0.1.0", "wasi_unstable", "proc_exit"))).toBe("(i32)->void");
    expect(fmt(hostFunction("0.2.0", "env", "emscripten_notify_memory_growth"))).toBe("(i32)->void");
    // ABI-specific functions
    expect(hostFunction("0.1.0", "env", "proxy_continue_stream")).toBeUndefined();
    expect(hostFunction("0.1.0", "env", "proxy_get_configuration")).toBeDefined();
    expect(hostFunction("0.2.0", "env", "proxy_get_log_level")).toBeUndefined();
    expect(hostFunction("0.2.1", "env", "proxy_get_log_level")).toBeDefined();
    expect(hostFunctionsFor("0.2.0").has("env.foo")).toBe(false);
  });

  it("lists the callbacks with the header arity change of ABI 0.2.0", () => {
    expect(fmt(callbackSignature("0.1.0", "proxy_on_request_headers"))).toBe("(i32,i32)->i32");
    expect(fmt(callbackSignature("0.2.0", "proxy_on_request_headers"))).toBe("(i32,i32,i32)->i32");
    expect(fmt(callbackSignature("0.2.1", "proxy_on_response_headers"))).toBe("(i32,i32,i32)->i32");
    expect(fmt(callbackSignature("0.2.0", "proxy_on_http_call_response"))).toBe("(i32,i32,i32,i32,i32)->void");
    expect(fmt(callbackSignature("0.2.0", "proxy_on_new_connection"))).toBe("(i32)->i32");
    expect(callbackSignature("0.1.0", "proxy_on_foreign_function")).toBeUndefined();
  });
});

describe("readModuleInterface", () => {
  it("reads imports and exports with their signatures", async () => {
    const bytes = await wat(`(module
      (import "env" "f" (func (param i32 i64) (result f64)))
      (import "env" "g" (global i32))
      (import "env" "mem" (memory 1 4))
      (import "env" "tbl" (table 2 funcref))
      (func $h (param f32))
      (export "h" (func $h))
      (export "f_again" (func 0))
      (export "m" (memory 0)))`);
    const i = readModuleInterface(bytes);
    expect(i.imports.map((x) => [x.module, x.name, x.kind])).toEqual([
      ["env", "f", "function"],
      ["env", "g", "global"],
      ["env", "mem", "memory"],
      ["env", "tbl", "table"],
    ]);
    expect(fmt(i.imports[0]?.signature)).toBe("(i32,i64)->f64");
    expect(i.imports[2]?.limits).toEqual({ min: 1, max: 4, shared: false, is64: false });
    expect(i.imports[3]?.element).toBe("funcref");
    expect(fmt(i.exports.find((e) => e.name === "h")?.signature)).toBe("(f32)->void");
    expect(fmt(i.exports.find((e) => e.name === "f_again")?.signature)).toBe("(i32,i64)->f64");
    expect(i.exports.find((e) => e.name === "m")?.kind).toBe("memory");
  });

  it("fails with a labelled WasmParseError on bad bytes", () => {
    expect(() => readModuleInterface(new Uint8Array([1, 2, 3]))).toThrow(WasmParseError);
    expect(() => readModuleInterface(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]))).toThrow(/version/);
    // a section size that runs past the end
    expect(() => readModuleInterface(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 0x7f]))).toThrow(
      /runs past the end at byte 10/,
    );
    // an over-long LEB128
    const overlong = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(() => readModuleInterface(overlong)).toThrow(WasmParseError);
  });

  it("never throws anything but WasmParseError on corrupted modules", async () => {
    const good = await wat(`(module
      (type (func (param i32 i32) (result i32)))
      (import "env" "proxy_log" (func (param i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "malloc") (param i32) (result i32) (i32.const 0))
      (func (export "proxy_abi_version_0_2_0")))`);
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let n = 0; n < 2000; n++) {
      const bad = good.slice(0, 8 + (rand() % (good.length - 8)) + 1);
      for (let k = 0; k < 3; k++) bad[8 + (rand() % (bad.length - 8))] = rand() & 0xff;
      try {
        readModuleInterface(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(WasmParseError);
      }
    }
  });
});
