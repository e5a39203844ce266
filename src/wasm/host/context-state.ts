/**
 * Host-side state of one proxy-wasm context (the VM context 0, the root
 * context, or one HTTP stream / TCP connection): its header maps, buffers
 * and whatever the module asked of it (local response, continue/close).
 * Host functions act on the context of the running callback, or on the one
 * chosen with proxy_set_effective_context.
 */
import { HeaderMapType } from "../abi/enums";
import { HeaderMap } from "./header-map";
import type { HostBuffer } from "./host-buffer";
import type { HeaderPair } from "./pairs";

export type ContextKind = "vm" | "root" | "http" | "network";

/** What proxy_send_local_response recorded. */
export interface LocalResponse {
  readonly status: number;
  readonly details: string;
  readonly body: Uint8Array;
  readonly headers: readonly HeaderPair[];
  readonly grpcStatus: number;
}

/** An outgoing call the module attempted; the host answers every one with a failure status. */
export interface SideCall {
  readonly kind: "http_call" | "grpc_call" | "grpc_stream";
  readonly target: string;
  readonly contextId: number;
  readonly result: number;
}

export class ContextState {
  readonly headerMaps = new Map<number, HeaderMap>();
  readonly buffers = new Map<number, HostBuffer>();
  localResponse: LocalResponse | undefined;
  /** Stream types passed to proxy_continue_stream (or continue_request/response in 0.1.0). */
  readonly continued: number[] = [];
  /** Stream types passed to proxy_close_stream. */
  readonly closed: number[] = [];
  /** Which body callback at end of stream is running: trailers can be added then (Envoy getMap). */
  endOfStreamBody: "request" | "response" | undefined;
  /** Root contexts only: the plugin configuration is readable during on_vm_start/on_configure. */
  pluginConfigVisible = false;
  /** Set when the module sent a local response during the running callback. */
  stopIteration = false;
  /** Extra read-only properties for this context (request.path and the like). */
  propertyLookup: ((path: string) => Uint8Array | undefined) | undefined;

  constructor(
    readonly id: number,
    readonly kind: ContextKind,
    /** The root context id for streams; 0 for the root and VM contexts. */
    readonly parentId: number,
  ) {}

  /** The map for a header map type, creating trailers where Envoy would (during an end-of-stream body). */
  headerMap(type: number, forWrite: boolean): HeaderMap | undefined {
    const existing = this.headerMaps.get(type);
    if (existing || !forWrite) return existing;
    const trailers =
      (type === HeaderMapType.RequestTrailers && this.endOfStreamBody === "request") ||
      (type === HeaderMapType.ResponseTrailers && this.endOfStreamBody === "response");
    if (!trailers) return undefined;
    const created = new HeaderMap();
    this.headerMaps.set(type, created);
    return created;
  }
}
