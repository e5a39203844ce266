/**
 * The functions Envoy links into a module, per ABI version, with their wasm
 * signatures. Source: proxy-wasm-cpp-host src/wasm.cc registerCallbacks and
 * include/proxy-wasm/exports.h (every `Word` is an i32 on wasm32; `int64_t`
 * and `uint64_t` parameters are i64). docs/ENVOY.md "proxy-wasm ABI" lists
 * the same names.
 */
import { type FuncSig, i32s, sig } from "./signature";
import type { AbiVersion } from "./versions";

export const WASI_MODULES = Object.freeze(["wasi_unstable", "wasi_snapshot_preview1"] as const);
export type WasiModule = (typeof WASI_MODULES)[number];

/** `env.proxy_*` functions registered for every ABI version (FOR_ALL_HOST_FUNCTIONS). */
const PROXY_COMMON: Readonly<Record<string, FuncSig>> = {
  proxy_log: i32s(3),
  proxy_get_status: i32s(3),
  proxy_set_property: i32s(4),
  proxy_get_property: i32s(4),
  proxy_send_local_response: i32s(8),
  proxy_get_shared_data: i32s(5),
  proxy_set_shared_data: i32s(5),
  proxy_register_shared_queue: i32s(3),
  proxy_resolve_shared_queue: i32s(5),
  proxy_dequeue_shared_queue: i32s(3),
  proxy_enqueue_shared_queue: i32s(3),
  proxy_get_header_map_value: i32s(5),
  proxy_add_header_map_value: i32s(5),
  proxy_replace_header_map_value: i32s(5),
  proxy_remove_header_map_value: i32s(3),
  proxy_get_header_map_pairs: i32s(3),
  proxy_set_header_map_pairs: i32s(3),
  proxy_get_header_map_size: i32s(2),
  proxy_get_buffer_status: i32s(3),
  proxy_get_buffer_bytes: i32s(5),
  proxy_set_buffer_bytes: i32s(5),
  proxy_http_call: i32s(10),
  proxy_grpc_call: i32s(12),
  proxy_grpc_stream: i32s(9),
  proxy_grpc_close: i32s(1),
  proxy_grpc_cancel: i32s(1),
  proxy_grpc_send: i32s(4),
  proxy_set_tick_period_milliseconds: i32s(1),
  proxy_get_current_time_nanoseconds: i32s(1),
  proxy_define_metric: i32s(4),
  proxy_increment_metric: sig("i32 i64", "i32"),
  proxy_record_metric: sig("i32 i64", "i32"),
  proxy_get_metric: i32s(2),
  proxy_set_effective_context: i32s(1),
  proxy_done: i32s(0),
  proxy_call_foreign_function: i32s(6),
};

/** ABI-specific `env.proxy_*` functions (registerCallbacks' abiVersion() branches). */
const PROXY_BY_ABI: Readonly<Record<AbiVersion, Readonly<Record<string, FuncSig>>>> = {
  "0.1.0": {
    proxy_get_configuration: i32s(2),
    proxy_continue_request: i32s(0),
    proxy_continue_response: i32s(0),
    proxy_clear_route_cache: i32s(0),
  },
  "0.2.0": {
    proxy_continue_stream: i32s(1),
    proxy_close_stream: i32s(1),
  },
  "0.2.1": {
    proxy_continue_stream: i32s(1),
    proxy_close_stream: i32s(1),
    proxy_get_log_level: i32s(1),
  },
};

/** Non-proxy `env` functions Envoy registers unconditionally. */
const ENV_EXTRA: Readonly<Record<string, FuncSig>> = {
  emscripten_notify_memory_growth: i32s(1, "void"),
  pthread_equal: i32s(2),
};

/**
 * WASI functions, registered under both wasi_unstable and
 * wasi_snapshot_preview1 (FOR_ALL_WASI_FUNCTIONS). The last three were
 * added to proxy-wasm-cpp-host for Go SDK plugins (proxy-wasm-cpp-host
 * PR #427); older Envoy builds do not link them.
 */
const WASI: Readonly<Record<string, FuncSig>> = {
  fd_write: i32s(4),
  fd_read: i32s(4),
  fd_seek: sig("i32 i64 i32 i32", "i32"),
  fd_close: i32s(1),
  fd_fdstat_get: i32s(2),
  environ_get: i32s(2),
  environ_sizes_get: i32s(2),
  args_get: i32s(2),
  args_sizes_get: i32s(2),
  clock_time_get: sig("i32 i64 i32", "i32"),
  random_get: i32s(2),
  proc_exit: i32s(1, "void"),
  path_open: sig("i32 i32 i32 i32 i32 i64 i64 i32 i32", "i32"),
  fd_prestat_get: i32s(2),
  fd_prestat_dir_name: i32s(3),
  sched_yield: i32s(0),
  poll_oneoff: i32s(4),
  fd_fdstat_set_flags: i32s(2),
};

function buildTable(abi: AbiVersion): ReadonlyMap<string, FuncSig> {
  const table = new Map<string, FuncSig>();
  for (const [name, s] of Object.entries({ ...PROXY_COMMON, ...PROXY_BY_ABI[abi], ...ENV_EXTRA })) {
    table.set(`env.${name}`, s);
  }
  for (const mod of WASI_MODULES) {
    for (const [name, s] of Object.entries(WASI)) table.set(`${mod}.${name}`, s);
  }
  return table;
}

const TABLES: Readonly<Record<AbiVersion, ReadonlyMap<string, FuncSig>>> = {
  "0.1.0": buildTable("0.1.0"),
  "0.2.0": buildTable("0.2.0"),
  "0.2.1": buildTable("0.2.1"),
};

/** Every function Envoy provides for `abi`, keyed `module.name`. */
export function hostFunctionsFor(abi: AbiVersion): ReadonlyMap<string, FuncSig> {
  return TABLES[abi];
}

/** The signature Envoy provides for `module.name` under `abi`, if it provides it at all. */
export function hostFunction(abi: AbiVersion, module: string, name: string): FuncSig | undefined {
  return TABLES[abi].get(`${module}.${name}`);
}

/** The ABI versions that do provide `module.name` (to explain a version mismatch). */
export function abiVersionsProviding(module: string, name: string): AbiVersion[] {
  return (Object.keys(TABLES) as AbiVersion[]).filter((v) => TABLES[v].has(`${module}.${name}`));
}
