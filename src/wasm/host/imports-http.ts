/**
 * env.proxy_* imports for header maps and stream control. Semantics follow
 * proxy-wasm-cpp-host src/exports.cc and Envoy's Context
 * (source/extensions/common/wasm/context.cc): a map that does not exist in
 * the current context is BadArgument, a missing header is NotFound (an
 * empty value with Ok under ABI 0.1.0), get_header_map_pairs of a missing
 * map is an empty list.
 */
import { HEADER_MAP_TYPE_MAX, STREAM_TYPE_MAX, StreamType, WasmResult } from "../abi/enums";
import type { HostEnv, HostFunctions } from "./host-env";
import { decodePairs, encodePairs } from "./pairs";

const u = (x: number): number => x >>> 0;

export function httpImports(env: HostEnv): HostFunctions {
  const mem = env.memory;
  const badType = (type: number): boolean => u(type) > HEADER_MAP_TYPE_MAX;

  return {
    proxy_get_header_map_value(type: number, kp: number, ks: number, vpp: number, vsp: number): number {
      if (badType(type)) return WasmResult.BadArgument;
      const key = mem.readString(u(kp), u(ks));
      if (key === undefined) return WasmResult.InvalidMemoryAccess;
      const map = env.current().headerMap(u(type), false);
      if (!map) return WasmResult.BadArgument;
      const value = map.get(key);
      if (value === undefined && env.abi !== "0.1.0") return WasmResult.NotFound;
      return mem.copyToPointerSize(value ?? "", u(vpp), u(vsp)) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_add_header_map_value(type: number, kp: number, ks: number, vp: number, vs: number): number {
      if (badType(type)) return WasmResult.BadArgument;
      const key = mem.readString(u(kp), u(ks));
      const value = mem.readString(u(vp), u(vs));
      if (key === undefined || value === undefined) return WasmResult.InvalidMemoryAccess;
      const map = env.current().headerMap(u(type), true);
      if (!map) return WasmResult.BadArgument;
      map.add(key, value);
      return WasmResult.Ok;
    },
    proxy_replace_header_map_value(type: number, kp: number, ks: number, vp: number, vs: number): number {
      if (badType(type)) return WasmResult.BadArgument;
      const key = mem.readString(u(kp), u(ks));
      const value = mem.readString(u(vp), u(vs));
      if (key === undefined || value === undefined) return WasmResult.InvalidMemoryAccess;
      const map = env.current().headerMap(u(type), true);
      if (!map) return WasmResult.BadArgument;
      map.replace(key, value);
      return WasmResult.Ok;
    },
    proxy_remove_header_map_value(type: number, kp: number, ks: number): number {
      if (badType(type)) return WasmResult.BadArgument;
      const key = mem.readString(u(kp), u(ks));
      if (key === undefined) return WasmResult.InvalidMemoryAccess;
      const map = env.current().headerMap(u(type), true);
      if (!map) return WasmResult.BadArgument;
      map.remove(key);
      return WasmResult.Ok;
    },
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
      if (badType(type)) return WasmResult.BadArgument;
      const pairs = env.current().headerMap(u(type), false)?.pairs() ?? [];
      // An empty map is reported as pointer 0 / size 0, not as an encoded zero count.
      const data = pairs.length === 0 ? new Uint8Array(0) : encodePairs(pairs);
      return mem.copyToPointerSize(data, u(ptrPtr), u(sizePtr)) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      if (badType(type)) return WasmResult.BadArgument;
      const data = mem.read(u(ptr), u(size));
      if (data === undefined) return WasmResult.InvalidMemoryAccess;
      const map = env.current().headerMap(u(type), true);
      if (!map) return WasmResult.BadArgument;
      map.setPairs(decodePairs(data));
      return WasmResult.Ok;
    },
    proxy_get_header_map_size(type: number, resultPtr: number): number {
      if (badType(type)) return WasmResult.BadArgument;
      const map = env.current().headerMap(u(type), false);
      if (!map) return WasmResult.BadArgument;
      return mem.writeU32(u(resultPtr), map.byteSize()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_send_local_response(
      status: number,
      detailsPtr: number,
      detailsSize: number,
      bodyPtr: number,
      bodySize: number,
      headersPtr: number,
      headersSize: number,
      grpcStatus: number,
    ): number {
      const details = mem.readString(u(detailsPtr), u(detailsSize));
      const body = mem.read(u(bodyPtr), u(bodySize));
      const headers = mem.read(u(headersPtr), u(headersSize));
      if (details === undefined || body === undefined || headers === undefined) {
        return WasmResult.InvalidMemoryAccess;
      }
      const ctx = env.current();
      ctx.localResponse = { status: u(status), details, body, headers: decodePairs(headers), grpcStatus };
      // Envoy stops the filter chain after a local reply (wasm()->stopNextIteration(true)).
      ctx.stopIteration = true;
      return WasmResult.Ok;
    },
    proxy_continue_stream(type: number): number {
      if (u(type) > STREAM_TYPE_MAX) return WasmResult.BadArgument;
      env.current().continued.push(u(type));
      return WasmResult.Ok;
    },
    proxy_close_stream(type: number): number {
      if (u(type) > STREAM_TYPE_MAX) return WasmResult.BadArgument;
      env.current().closed.push(u(type));
      return WasmResult.Ok;
    },
    proxy_continue_request(): number {
      env.current().continued.push(StreamType.Request);
      return WasmResult.Ok;
    },
    proxy_continue_response(): number {
      env.current().continued.push(StreamType.Response);
      return WasmResult.Ok;
    },
    // No routing here, so there is no route cache to clear.
    proxy_clear_route_cache(): number {
      return WasmResult.Ok;
    },
  };
}
