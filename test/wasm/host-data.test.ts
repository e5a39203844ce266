import { describe, expect, it } from "vitest";
import { WasmResult } from "../../src/wasm/abi";
import { decodePairs, encodePairs, HeaderMap, MetricRegistry, SharedState } from "../../src/wasm/host";
import { HostBuffer } from "../../src/wasm/host/host-buffer";
import { VmMetrics } from "../../src/wasm/host/metrics";
import { encodePropertyValue, PropertyStore } from "../../src/wasm/host/properties";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("serialized pairs", () => {
  it("encodes exactly as proxy-wasm-cpp-host marshalPairs does", () => {
    const out = encodePairs([
      ["ab", "c"],
      [":x", ""],
    ]);
    // count, (2,1), (2,0), "ab\0c\0", ":x\0\0"
    expect([...out]).toEqual([
      2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x61, 0x62, 0, 0x63, 0, 0x3a, 0x78, 0, 0,
    ]);
    expect(decodePairs(out)).toEqual([
      ["ab", "c"],
      [":x", ""],
    ]);
  });

  it("decodes malformed input to no pairs instead of over-reading", () => {
    expect(decodePairs(new Uint8Array([1, 0]))).toEqual([]);
    expect(decodePairs(new Uint8Array([5, 0, 0, 0, 1, 0, 0, 0]))).toEqual([]);
    const truncated = encodePairs([["key", "value"]]).subarray(0, 15);
    expect(decodePairs(truncated)).toEqual([]);
    expect(decodePairs(new Uint8Array([0, 0, 0, 0]))).toEqual([]);
  });
});

describe("HeaderMap (Envoy semantics)", () => {
  it("lower-cases keys, returns the first of repeated values, and replaces to a single entry", () => {
    const m = HeaderMap.from([
      ["Set-Cookie", "a"],
      ["x", "1"],
      ["set-cookie", "b"],
    ]);
    expect(m.get("SET-COOKIE")).toBe("a");
    expect(m.getAll("set-cookie")).toEqual(["a", "b"]);
    m.replace("set-cookie", "c");
    expect(m.pairs()).toEqual([
      ["set-cookie", "c"],
      ["x", "1"],
    ]);
    m.remove("X");
    expect(m.size).toBe(1);
    expect(m.byteSize()).toBe("set-cookie".length + 1);
  });
});

describe("HostBuffer.copyFrom (Envoy Buffer::copyFrom)", () => {
  it("replaces from the start, appends at the end, refuses the middle, and refuses immutable buffers", () => {
    const b = new HostBuffer(bytes("hello world"), true);
    expect(b.copyFrom(0, 5, bytes("HOWDY"))).toBe(WasmResult.Ok);
    expect(text(b.bytes)).toBe("HOWDY world");
    expect(b.copyFrom(0, 0, bytes(">"))).toBe(WasmResult.Ok);
    expect(text(b.bytes)).toBe(">HOWDY world");
    expect(b.copyFrom(b.length, 0, bytes("!"))).toBe(WasmResult.Ok);
    expect(text(b.bytes)).toBe(">HOWDY world!");
    expect(b.copyFrom(3, 1, bytes("x"))).toBe(WasmResult.BadArgument);
    expect(new HostBuffer(bytes("cfg"), false).copyFrom(0, 3, bytes("x"))).toBe(WasmResult.BadArgument);
  });
});

describe("metrics", () => {
  it("allocates ids with the type in the low two bits, as Envoy does", () => {
    const m = new VmMetrics(new MetricRegistry());
    expect(m.define(0, "c").id).toBe(4);
    expect(m.define(1, "g").id).toBe(5);
    expect(m.define(2, "h").id).toBe(6);
    expect(m.define(0, "c2").id).toBe(8);
    expect(m.define(3, "bad").result).toBe(WasmResult.BadArgument);
    expect(m.increment(4, 2n)).toBe(WasmResult.Ok);
    expect(m.increment(4, -1n)).toBe(WasmResult.BadArgument);
    expect(m.increment(5, -1n)).toBe(WasmResult.Ok);
    expect(m.get(5).value).toBe(2n ** 64n - 1n);
    expect(m.increment(6, 1n)).toBe(WasmResult.BadArgument);
    expect(m.record(6, 42n)).toBe(WasmResult.Ok);
    expect(m.get(6).result).toBe(WasmResult.BadArgument);
    expect(m.get(99).result).toBe(WasmResult.NotFound);
    expect(m.registry.get("h")?.samples).toEqual([42n]);
  });
});

describe("properties and shared state", () => {
  it("encodes values like Envoy attributes and accepts dotted or NUL-separated paths", () => {
    const p = new PropertyStore({ "node.id": "n1", count: 7, flag: true });
    expect(text(p.get("node\0id") ?? new Uint8Array())).toBe("n1");
    expect(p.get("node\0id\0")).toEqual(bytes("n1"));
    expect([...(p.get("count") ?? [])]).toEqual([7, 0, 0, 0, 0, 0, 0, 0]);
    expect(encodePropertyValue(false)).toEqual(new Uint8Array([0]));
  });

  it("honours CAS on shared data and scopes it by vm_id", () => {
    const s = new SharedState();
    expect(s.setData("vm", "k", bytes("1"), 0)).toBe(WasmResult.Ok);
    const first = s.getData("vm", "k");
    expect(s.setData("vm", "k", bytes("2"), (first?.cas ?? 0) + 1)).toBe(WasmResult.CasMismatch);
    expect(s.setData("vm", "k", bytes("2"), first?.cas ?? 0)).toBe(WasmResult.Ok);
    expect(s.getData("other", "k")).toBeUndefined();
  });

  it("queues data and notifies the registering owner", () => {
    const s = new SharedState();
    const ready: number[] = [];
    const token = s.registerQueue("vm", "q", (t) => ready.push(t));
    expect(s.resolveQueue("vm", "q")).toBe(token);
    expect(s.enqueue(token, bytes("x"))).toBe(WasmResult.Ok);
    expect(ready).toEqual([token]);
    expect(text(s.dequeue(token).data ?? new Uint8Array())).toBe("x");
    expect(s.dequeue(token).result).toBe(WasmResult.Empty);
    expect(s.enqueue(999, bytes("x"))).toBe(WasmResult.NotFound);
  });
});
