/**
 * env.proxy_get_buffer_status / get_buffer_bytes / set_buffer_bytes.
 * Buffer lookup follows Envoy's Context::getBuffer: the VM configuration is
 * always readable, the plugin configuration only while the root context is
 * being started or configured, bodies and connection data belong to the
 * stream context. Range handling follows src/exports.cc get_buffer_bytes
 * (an over-long read is clipped; a zero-length read returns Ok and writes
 * nothing).
 */
import { BUFFER_TYPE_MAX, BufferType, WasmResult } from "../abi/enums";
import { HostBuffer } from "./host-buffer";
import type { HostEnv, HostFunctions } from "./host-env";

const u = (x: number): number => x >>> 0;

export function bufferImports(env: HostEnv): HostFunctions {
  const mem = env.memory;
  const vmConfig = new HostBuffer(env.vmConfiguration, false);
  const pluginConfig = new HostBuffer(env.pluginConfiguration, false);

  const bufferOf = (type: number): HostBuffer | undefined => {
    const ctx = env.current();
    if (type === BufferType.VmConfiguration) return vmConfig;
    if (type === BufferType.PluginConfiguration) return ctx.pluginConfigVisible ? pluginConfig : undefined;
    return ctx.buffers.get(type);
  };

  return {
    proxy_get_buffer_status(type: number, lengthPtr: number, flagsPtr: number): number {
      if (u(type) > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer = bufferOf(u(type));
      if (!buffer) return WasmResult.NotFound;
      if (!mem.writeU32(u(lengthPtr), buffer.length) || !mem.writeU32(u(flagsPtr), 0)) {
        return WasmResult.InvalidMemoryAccess;
      }
      return WasmResult.Ok;
    },
    proxy_get_buffer_bytes(type: number, start: number, length: number, ptrPtr: number, sizePtr: number): number {
      if (u(type) > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer = bufferOf(u(type));
      if (!buffer) return WasmResult.NotFound;
      const from = u(start);
      if (from > buffer.length) return WasmResult.BadArgument;
      const len = Math.min(u(length), buffer.length - from);
      if (len === 0) return WasmResult.Ok;
      return mem.copyToPointerSize(buffer.bytes.subarray(from, from + len), u(ptrPtr), u(sizePtr))
        ? WasmResult.Ok
        : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_buffer_bytes(type: number, start: number, length: number, dataPtr: number, dataSize: number): number {
      if (u(type) > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer = bufferOf(u(type));
      if (!buffer) return WasmResult.NotFound;
      const data = mem.read(u(dataPtr), u(dataSize));
      if (data === undefined) return WasmResult.InvalidMemoryAccess;
      return buffer.copyFrom(u(start), u(length), data);
    },
  };
}
