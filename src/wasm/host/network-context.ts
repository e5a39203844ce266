/**
 * One TCP connection through the module, driven the way Envoy's wasm
 * network filter drives proxy-wasm-cpp-host's ContextBase (src/context.cc
 * onNetworkNewConnection, onDownstreamData, ...). Envoy ends a connection
 * with on_done, on_log, on_delete once it is closed (Envoy Context::onCloseTCP).
 */
import { BufferType, PeerType } from "../abi/enums";
import { type ContextHost, networkStatus } from "./context-host";
import type { ContextState } from "./context-state";
import { HostBuffer } from "./host-buffer";

export class NetworkContext {
  constructor(
    private readonly host: ContextHost,
    private readonly state: ContextState,
  ) {}

  get id(): number {
    return this.state.id;
  }
  /** The last downstream data as the module left it. */
  get downstreamData(): Uint8Array {
    return this.state.buffers.get(BufferType.NetworkDownstreamData)?.bytes ?? new Uint8Array(0);
  }
  get upstreamData(): Uint8Array {
    return this.state.buffers.get(BufferType.NetworkUpstreamData)?.bytes ?? new Uint8Array(0);
  }
  /** Stream types the module asked to close (proxy_close_stream: 2 downstream, 3 upstream). */
  get closed(): readonly number[] {
    return this.state.closed;
  }
  get continued(): readonly number[] {
    return this.state.continued;
  }

  onNewConnection(): number {
    this.state.stopIteration = false;
    return networkStatus(this.state, this.host.call("proxy_on_new_connection", this.state, this.id));
  }
  onDownstreamData(data: Uint8Array, endOfStream: boolean): number {
    return this.onData(BufferType.NetworkDownstreamData, "proxy_on_downstream_data", data, endOfStream);
  }
  onUpstreamData(data: Uint8Array, endOfStream: boolean): number {
    return this.onData(BufferType.NetworkUpstreamData, "proxy_on_upstream_data", data, endOfStream);
  }
  onDownstreamConnectionClose(peer: number = PeerType.Remote): void {
    this.host.call("proxy_on_downstream_connection_close", this.state, this.id, peer);
  }
  onUpstreamConnectionClose(peer: number = PeerType.Remote): void {
    this.host.call("proxy_on_upstream_connection_close", this.state, this.id, peer);
  }
  onDone(): boolean {
    const r = this.host.call("proxy_on_done", this.state, this.id);
    return r === undefined || r !== 0;
  }
  onLog(): void {
    this.host.call("proxy_on_log", this.state, this.id);
  }
  onDelete(): void {
    try {
      this.host.call("proxy_on_delete", this.state, this.id);
    } finally {
      this.host.release(this.state);
    }
  }
  /** Connection end as Envoy sequences it: on_done, on_log, on_delete. */
  finish(): void {
    this.onDone();
    this.onLog();
    this.onDelete();
  }

  private onData(type: number, name: string, data: Uint8Array, end: boolean): number {
    this.state.buffers.set(type, new HostBuffer(data, true));
    this.state.stopIteration = false;
    return networkStatus(this.state, this.host.call(name, this.state, this.id, data.length, end ? 1 : 0));
  }
}
