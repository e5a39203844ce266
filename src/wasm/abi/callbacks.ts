/**
 * The module exports Envoy looks up, with the signatures it requires. An
 * export with one of these names but another signature makes Envoy fail the
 * VM with "Bad function signature for: <name>" (proxy-wasm-cpp-host
 * src/v8/v8.cc getModuleFunctionImpl); absent exports are simply not
 * called. Source: src/wasm.cc getFunctions and include/proxy-wasm/wasm.h
 * (WasmCallWord<N> = N i32 params -> i32, WasmCallVoid<N> = N i32 params ->
 * void). docs/ENVOY.md "proxy-wasm ABI" summarises the same list.
 */
import { type FuncSig, i32s } from "./signature";
import type { AbiVersion } from "./versions";

const word = (n: number): FuncSig => i32s(n);
const voidFn = (n: number): FuncSig => i32s(n, "void");

/** Start functions: WASI reactor, WASI command, and the optional main after _initialize. */
export const START_FUNCTIONS: Readonly<Record<string, FuncSig>> = Object.freeze({
  _initialize: voidFn(0),
  _start: voidFn(0),
  main: word(2),
  __main_void: word(0),
});

/** Expected signature of a start function, or undefined for any other name. */
export function startFunctionSignature(name: string): FuncSig | undefined {
  return Object.hasOwn(START_FUNCTIONS, name) ? START_FUNCTIONS[name] : undefined;
}

/** Allocators, in the order Envoy tries them. */
export const ALLOCATORS: readonly string[] = Object.freeze(["malloc", "proxy_on_memory_allocate"]);
export const ALLOCATOR_SIG: FuncSig = word(1);

const COMMON_CALLBACKS: Readonly<Record<string, FuncSig>> = {
  proxy_validate_configuration: word(2),
  proxy_on_vm_start: word(2),
  proxy_on_configure: word(2),
  proxy_on_tick: voidFn(1),
  proxy_on_context_create: voidFn(2),
  proxy_on_new_connection: word(1),
  proxy_on_downstream_data: word(3),
  proxy_on_upstream_data: word(3),
  proxy_on_downstream_connection_close: voidFn(2),
  proxy_on_upstream_connection_close: voidFn(2),
  proxy_on_request_body: word(3),
  proxy_on_request_trailers: word(2),
  proxy_on_request_metadata: word(2),
  proxy_on_response_body: word(3),
  proxy_on_response_trailers: word(2),
  proxy_on_response_metadata: word(2),
  proxy_on_http_call_response: voidFn(5),
  proxy_on_grpc_receive: voidFn(3),
  proxy_on_grpc_close: voidFn(3),
  proxy_on_grpc_receive_initial_metadata: voidFn(3),
  proxy_on_grpc_receive_trailing_metadata: voidFn(3),
  proxy_on_queue_ready: voidFn(2),
  proxy_on_done: word(1),
  proxy_on_log: voidFn(1),
  proxy_on_delete: voidFn(1),
};

/** Header callbacks changed arity in 0.2.0 (end_of_stream was added); on_foreign_function is 0.2.x only. */
const BY_ABI: Readonly<Record<AbiVersion, Readonly<Record<string, FuncSig>>>> = {
  "0.1.0": {
    proxy_on_request_headers: word(2),
    proxy_on_response_headers: word(2),
  },
  "0.2.0": {
    proxy_on_request_headers: word(3),
    proxy_on_response_headers: word(3),
    proxy_on_foreign_function: voidFn(3),
  },
  "0.2.1": {
    proxy_on_request_headers: word(3),
    proxy_on_response_headers: word(3),
    proxy_on_foreign_function: voidFn(3),
  },
};

const TABLES: Readonly<Record<AbiVersion, ReadonlyMap<string, FuncSig>>> = {
  "0.1.0": new Map(Object.entries({ ...COMMON_CALLBACKS, ...BY_ABI["0.1.0"] })),
  "0.2.0": new Map(Object.entries({ ...COMMON_CALLBACKS, ...BY_ABI["0.2.0"] })),
  "0.2.1": new Map(Object.entries({ ...COMMON_CALLBACKS, ...BY_ABI["0.2.1"] })),
};

/** The proxy_on_* callbacks Envoy looks up for `abi`, with the signatures it requires. */
export function callbacksFor(abi: AbiVersion): ReadonlyMap<string, FuncSig> {
  return TABLES[abi];
}

/** Expected signature of callback `name` under `abi`, or undefined if Envoy never calls it. */
export function callbackSignature(abi: AbiVersion, name: string): FuncSig | undefined {
  return TABLES[abi].get(name);
}
