/**
 * What a stream context handle needs from its VM, and the status
 * conversions Envoy applies to callback results (proxy-wasm-cpp-host
 * src/context.cc convertVmCallResultTo*): a local reply sent during the
 * callback, or an out-of-range value, becomes the strongest "stop".
 */
import {
  FilterDataStatus,
  FilterHeadersStatus,
  FilterStatus,
  FilterTrailersStatus,
} from "../abi/enums";
import type { AbiVersion } from "../abi/versions";
import type { ContextState } from "./context-state";

export interface ContextHost {
  readonly abiVersion: AbiVersion;
  /** Allocates a context id under the root context and runs proxy_on_context_create(id, root). */
  createStreamContext(kind: "http" | "network"): ContextState;
  /** Calls an export if the module has it (undefined otherwise), guarding against traps. */
  call(name: string, ctx: ContextState, ...args: number[]): number | undefined;
  /** Forgets a context after proxy_on_delete. */
  release(ctx: ContextState): void;
}

export function headersStatus(ctx: ContextState, result: number | undefined): number {
  const r = result ?? FilterHeadersStatus.Continue;
  return ctx.stopIteration || r > FilterHeadersStatus.StopAllIterationAndWatermark
    ? FilterHeadersStatus.StopAllIterationAndWatermark
    : r;
}

export function dataStatus(ctx: ContextState, result: number | undefined): number {
  const r = result ?? FilterDataStatus.Continue;
  return ctx.stopIteration || r > FilterDataStatus.StopIterationNoBuffer ? FilterDataStatus.StopIterationNoBuffer : r;
}

export function trailersStatus(ctx: ContextState, result: number | undefined): number {
  const r = result ?? FilterTrailersStatus.Continue;
  return ctx.stopIteration || r > FilterTrailersStatus.StopIteration ? FilterTrailersStatus.StopIteration : r;
}

export function networkStatus(ctx: ContextState, result: number | undefined): number {
  const r = result ?? FilterStatus.Continue;
  return ctx.stopIteration || r > FilterStatus.StopIteration ? FilterStatus.StopIteration : r;
}
