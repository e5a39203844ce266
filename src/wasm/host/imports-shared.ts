/**
 * env.proxy_* imports for shared data and shared queues (proxy-wasm-cpp-host
 * src/exports.cc). Queues are registered on behalf of the root context of
 * the calling context, which later receives proxy_on_queue_ready.
 */
import { WasmResult } from "../abi/enums";
import type { HostEnv, HostFunctions } from "./host-env";

const u = (x: number): number => x >>> 0;

export function sharedImports(env: HostEnv): HostFunctions {
  const mem = env.memory;
  return {
    proxy_get_shared_data(kp: number, ks: number, vpp: number, vsp: number, casPtr: number): number {
      const key = mem.readString(u(kp), u(ks));
      if (key === undefined) return WasmResult.InvalidMemoryAccess;
      const entry = env.shared.getData(env.vmId, key);
      if (!entry) return WasmResult.NotFound;
      if (!mem.copyToPointerSize(entry.value, u(vpp), u(vsp)) || !mem.writeU32(u(casPtr), entry.cas)) {
        return WasmResult.InvalidMemoryAccess;
      }
      return WasmResult.Ok;
    },
    proxy_set_shared_data(kp: number, ks: number, vp: number, vs: number, cas: number): number {
      const key = mem.readString(u(kp), u(ks));
      const value = mem.read(u(vp), u(vs));
      if (key === undefined || value === undefined) return WasmResult.InvalidMemoryAccess;
      return env.shared.setData(env.vmId, key, value, u(cas));
    },
    proxy_register_shared_queue(np: number, ns: number, tokenPtr: number): number {
      const name = mem.readString(u(np), u(ns));
      if (name === undefined) return WasmResult.InvalidMemoryAccess;
      const ctx = env.current();
      const rootId = ctx.kind === "root" ? ctx.id : ctx.parentId;
      const token = env.shared.registerQueue(env.vmId, name, (t) => env.queueReady(rootId, t));
      return mem.writeU32(u(tokenPtr), token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_resolve_shared_queue(vp: number, vs: number, np: number, ns: number, tokenPtr: number): number {
      const vmId = mem.readString(u(vp), u(vs));
      const name = mem.readString(u(np), u(ns));
      if (vmId === undefined || name === undefined) return WasmResult.InvalidMemoryAccess;
      const token = env.shared.resolveQueue(vmId, name);
      if (token === undefined) return WasmResult.NotFound;
      return mem.writeU32(u(tokenPtr), token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_dequeue_shared_queue(token: number, dpp: number, dsp: number): number {
      const { result, data } = env.shared.dequeue(u(token));
      if (result !== WasmResult.Ok || data === undefined) return result;
      return mem.copyToPointerSize(data, u(dpp), u(dsp)) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_enqueue_shared_queue(token: number, dp: number, ds: number): number {
      const data = mem.read(u(dp), u(ds));
      if (data === undefined) return WasmResult.InvalidMemoryAccess;
      return env.shared.enqueue(u(token), data);
    },
  };
}
