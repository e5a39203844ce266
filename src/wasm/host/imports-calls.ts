/**
 * Side calls (proxy_http_call, proxy_grpc_*). This host has no upstream
 * clusters, so every call is refused with the status Envoy returns when
 * the target cluster does not exist (source/extensions/common/wasm/context.cc
 * httpCall: BadArgument; grpcCall/grpcStream with an unknown cluster:
 * ParseFailure; cancel/close/send of an unknown token: NotFound). Each
 * attempt is recorded so a test or simulator can see what was tried.
 */
import { WasmResult } from "../abi/enums";
import type { HostEnv, HostFunctions } from "./host-env";

const u = (x: number): number => x >>> 0;

export function callImports(env: HostEnv): HostFunctions {
  const mem = env.memory;
  const readable = (...ranges: [number, number][]): boolean =>
    ranges.every(([p, s]) => mem.inBounds(u(p), u(s)));

  return {
    proxy_http_call(
      uriPtr: number,
      uriSize: number,
      hp: number,
      hs: number,
      bp: number,
      bs: number,
      tp: number,
      ts: number,
      _timeout: number,
      tokenPtr: number,
    ): number {
      if (!readable([uriPtr, uriSize], [hp, hs], [bp, bs], [tp, ts]) || !mem.writeU32(u(tokenPtr), 0)) {
        return WasmResult.InvalidMemoryAccess;
      }
      const target = mem.readString(u(uriPtr), u(uriSize)) ?? "";
      const result = WasmResult.BadArgument;
      env.recordSideCall({ kind: "http_call", target, contextId: env.current().id, result });
      return result;
    },
    proxy_grpc_call(
      sp: number,
      ss: number,
      snp: number,
      sns: number,
      mp: number,
      ms: number,
      mdp: number,
      mds: number,
      rp: number,
      rs: number,
    ): number {
      if (!readable([sp, ss], [snp, sns], [mp, ms], [mdp, mds], [rp, rs])) return WasmResult.InvalidMemoryAccess;
      const target = `${mem.readString(u(snp), u(sns)) ?? ""}/${mem.readString(u(mp), u(ms)) ?? ""}`;
      const result = WasmResult.ParseFailure;
      env.recordSideCall({ kind: "grpc_call", target, contextId: env.current().id, result });
      return result;
    },
    proxy_grpc_stream(sp: number, ss: number, snp: number, sns: number, mp: number, ms: number, mdp: number, mds: number): number {
      if (!readable([sp, ss], [snp, sns], [mp, ms], [mdp, mds])) return WasmResult.InvalidMemoryAccess;
      const target = `${mem.readString(u(snp), u(sns)) ?? ""}/${mem.readString(u(mp), u(ms)) ?? ""}`;
      const result = WasmResult.ParseFailure;
      env.recordSideCall({ kind: "grpc_stream", target, contextId: env.current().id, result });
      return result;
    },
    proxy_grpc_cancel(): number {
      return WasmResult.NotFound;
    },
    proxy_grpc_close(): number {
      return WasmResult.NotFound;
    },
    proxy_grpc_send(_token: number, mp: number, ms: number): number {
      if (!readable([mp, ms])) return WasmResult.InvalidMemoryAccess;
      return WasmResult.NotFound;
    },
  };
}
