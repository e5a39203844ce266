/**
 * env.proxy_* imports that are not about HTTP/TCP data: logging, status,
 * properties, time, ticks, metrics, effective context, done, foreign
 * functions, plus the two non-proxy env functions Envoy registers.
 * Semantics follow proxy-wasm-cpp-host src/exports.cc.
 */
import { LOG_LEVEL_NAMES, WasmResult } from "../abi/enums";
import type { HostEnv, HostFunctions } from "./host-env";

const u = (x: number): number => x >>> 0;

export function generalImports(env: HostEnv): HostFunctions {
  const mem = env.memory;
  return {
    proxy_log(level: number, ptr: number, size: number): number {
      const name = LOG_LEVEL_NAMES[level];
      if (name === undefined) return WasmResult.BadArgument;
      const message = mem.readString(u(ptr), u(size));
      if (message === undefined) return WasmResult.InvalidMemoryAccess;
      env.log(name, message, "proxy_log");
      return WasmResult.Ok;
    },
    proxy_get_log_level(resultPtr: number): number {
      return mem.writeU32(u(resultPtr), env.logLevel) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    // The host keeps no gRPC status, so this always reports code 0 with an empty message.
    proxy_get_status(codePtr: number, msgPtrPtr: number, msgSizePtr: number): number {
      if (!mem.writeU32(u(codePtr), 0)) return WasmResult.InvalidMemoryAccess;
      return mem.copyToPointerSize("", u(msgPtrPtr), u(msgSizePtr)) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_get_property(pathPtr: number, pathSize: number, valuePtrPtr: number, valueSizePtr: number): number {
      const path = mem.readString(u(pathPtr), u(pathSize));
      if (path === undefined) return WasmResult.InvalidMemoryAccess;
      const value = env.current().propertyLookup?.(path) ?? env.properties.get(path);
      if (value === undefined) return WasmResult.NotFound;
      return mem.copyToPointerSize(value, u(valuePtrPtr), u(valueSizePtr))
        ? WasmResult.Ok
        : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_property(pathPtr: number, pathSize: number, valuePtr: number, valueSize: number): number {
      const path = mem.readString(u(pathPtr), u(pathSize));
      const value = mem.read(u(valuePtr), u(valueSize));
      if (path === undefined || value === undefined) return WasmResult.InvalidMemoryAccess;
      env.properties.set(path, value);
      return WasmResult.Ok;
    },
    // 0.1.0 only: Envoy answers with the plugin configuration while it is
    // being applied and with the VM configuration otherwise.
    proxy_get_configuration(valuePtrPtr: number, valueSizePtr: number): number {
      const value = env.current().pluginConfigVisible ? env.pluginConfiguration : env.vmConfiguration;
      return mem.copyToPointerSize(value, u(valuePtrPtr), u(valueSizePtr))
        ? WasmResult.Ok
        : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_tick_period_milliseconds(ms: number): number {
      env.setTickPeriod(u(ms));
      return WasmResult.Ok;
    },
    proxy_get_current_time_nanoseconds(resultPtr: number): number {
      return mem.writeU64(u(resultPtr), env.nowNanoseconds()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_define_metric(type: number, namePtr: number, nameSize: number, idPtr: number): number {
      const name = mem.readString(u(namePtr), u(nameSize));
      if (name === undefined) return WasmResult.InvalidMemoryAccess;
      const { result, id } = env.metrics.define(u(type), name);
      if (result !== WasmResult.Ok || id === undefined) return result;
      return mem.writeU32(u(idPtr), id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_increment_metric(id: number, offset: bigint): number {
      return env.metrics.increment(u(id), offset);
    },
    proxy_record_metric(id: number, value: bigint): number {
      return env.metrics.record(u(id), value);
    },
    proxy_get_metric(id: number, resultPtr: number): number {
      const { result, value } = env.metrics.get(u(id));
      if (result !== WasmResult.Ok || value === undefined) return result;
      return mem.writeU64(u(resultPtr), value) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_effective_context(contextId: number): number {
      if (!env.context(u(contextId))) return WasmResult.BadArgument;
      env.setEffectiveContext(u(contextId));
      return WasmResult.Ok;
    },
    proxy_done(): number {
      return env.done(env.current());
    },
    // Envoy registers foreign functions (compression, CEL expressions, ...); this host has none.
    proxy_call_foreign_function(namePtr: number, nameSize: number, argPtr: number, argSize: number): number {
      if (mem.read(u(namePtr), u(nameSize)) === undefined || mem.read(u(argPtr), u(argSize)) === undefined) {
        return WasmResult.InvalidMemoryAccess;
      }
      return WasmResult.NotFound;
    },
    // Memory views are refreshed lazily on every access, so growth needs no action.
    emscripten_notify_memory_growth(): undefined {
      return undefined;
    },
    pthread_equal(a: number, b: number): number {
      return a === b ? 1 : 0;
    },
  };
}
