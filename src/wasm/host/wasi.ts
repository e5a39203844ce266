/**
 * The minimal WASI surface Envoy offers (proxy-wasm-cpp-host src/exports.cc
 * wasi_unstable_*), registered under both wasi_unstable and
 * wasi_snapshot_preview1. stdout/stderr writes become module log lines at
 * info/error with one trailing newline removed; there are no files, args
 * are empty and the environment is whatever the VM was given. proc_exit
 * unwinds the module so the call guard can fail the VM (Envoy logs it and
 * the module then traps on the `unreachable` that follows in wasi-libc).
 */
import { randomFillSync } from "node:crypto";
import { ProcExitSignal } from "./errors";
import type { HostEnv, HostFunctions } from "./host-env";

const u = (x: number): number => x >>> 0;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

const ESUCCESS = 0;
const EBADF = 8;
const EFAULT = 21;
const EINVAL = 28;
const ENOSYS = 52;

export function wasiImports(env: HostEnv): HostFunctions {
  const mem = env.memory;
  const envStrings = env.environment.map(([k, v]) => encoder.encode(`${k}=${v}\0`));

  return {
    fd_write(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
      if (fd !== 1 && fd !== 2) return EBADF;
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < u(iovsLen); i++) {
        const buf = mem.readU32(u(iovs) + i * 8);
        const len = mem.readU32(u(iovs) + i * 8 + 4);
        if (buf === undefined || len === undefined) return EFAULT;
        if (len === 0) continue;
        const chunk = mem.read(buf, len);
        if (chunk === undefined) return EFAULT;
        chunks.push(chunk);
        total += len;
      }
      if (total > 0) {
        let text = decoder.decode(Buffer.concat(chunks));
        if (text.endsWith("\n")) text = text.slice(0, -1);
        env.log(fd === 1 ? "info" : "error", text, fd === 1 ? "stdout" : "stderr");
      }
      return mem.writeU32(u(nwrittenPtr), total) ? ESUCCESS : EFAULT;
    },
    fd_read(): number {
      return ENOSYS;
    },
    fd_seek(): number {
      env.diagnostic("wasi_unstable fd_seek");
      return ESUCCESS;
    },
    fd_close(): number {
      env.diagnostic("wasi_unstable fd_close");
      return ESUCCESS;
    },
    // Only stdout and stderr exist; report them as writable character streams.
    fd_fdstat_get(fd: number, statPtr: number): number {
      if (fd !== 1 && fd !== 2) return EBADF;
      const ok = mem.writeU64(u(statPtr), 0n) && mem.writeU64(u(statPtr) + 8, 64n) && mem.writeU64(u(statPtr) + 16, 0n);
      return ok ? ESUCCESS : EFAULT;
    },
    fd_fdstat_set_flags(): number {
      return ENOSYS;
    },
    fd_prestat_get(): number {
      return EBADF; // no preopened directories: ends wasi-libc's preopen scan
    },
    fd_prestat_dir_name(): number {
      return EBADF;
    },
    path_open(): number {
      return EBADF;
    },
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      const size = envStrings.reduce((n, s) => n + s.length, 0);
      return mem.writeU32(u(countPtr), envStrings.length) && mem.writeU32(u(sizePtr), size) ? ESUCCESS : EFAULT;
    },
    environ_get(arrayPtr: number, bufPtr: number): number {
      let entry = u(arrayPtr);
      let buf = u(bufPtr);
      for (const s of envStrings) {
        if (!mem.writeU32(entry, buf) || !mem.write(buf, s)) return EFAULT;
        entry += 4;
        buf += s.length;
      }
      return ESUCCESS;
    },
    args_sizes_get(argcPtr: number, sizePtr: number): number {
      return mem.writeU32(u(argcPtr), 0) && mem.writeU32(u(sizePtr), 0) ? ESUCCESS : EFAULT;
    },
    args_get(): number {
      return ESUCCESS;
    },
    // Clock 0 is realtime (the same clock as proxy_get_current_time_nanoseconds), 1 monotonic.
    clock_time_get(clockId: number, _precision: bigint, resultPtr: number): number {
      let now: bigint;
      if (clockId === 0) now = env.nowNanoseconds();
      else if (clockId === 1) now = process.hrtime.bigint();
      else return EINVAL;
      return mem.writeU64(u(resultPtr), now) ? ESUCCESS : EFAULT;
    },
    random_get(bufPtr: number, len: number): number {
      if (!mem.inBounds(u(bufPtr), u(len))) return EFAULT;
      const bytes = new Uint8Array(u(len));
      randomFillSync(bytes);
      return mem.write(u(bufPtr), bytes) ? ESUCCESS : EFAULT;
    },
    proc_exit(code: number): undefined {
      throw new ProcExitSignal(u(code));
    },
    sched_yield(): number {
      return ESUCCESS;
    },
    poll_oneoff(): number {
      return ENOSYS;
    },
  };
}
