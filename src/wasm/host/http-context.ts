/**
 * One HTTP stream through the module, driven callback by callback the way
 * Envoy's wasm HTTP filter drives proxy-wasm-cpp-host's ContextBase
 * (src/context.cc onRequestHeaders ... onDelete). Header callbacks pass the
 * header count and, from ABI 0.2.0 on, end_of_stream; body callbacks pass
 * the buffered body length. A body callback that returns
 * StopIterationAndBuffer/Watermark makes the next chunk accumulate with the
 * previous one, as Envoy buffers it. At the end Envoy calls on_done,
 * on_log, then on_delete.
 */
import { BufferType, FilterDataStatus, HeaderMapType } from "../abi/enums";
import { type ContextHost, dataStatus, headersStatus, trailersStatus } from "./context-host";
import type { ContextState, LocalResponse } from "./context-state";
import { concat, HostBuffer } from "./host-buffer";
import { type HeaderInput, HeaderMap } from "./header-map";
import { encodePropertyValue } from "./properties";

type Direction = "request" | "response";

const SIDES = {
  request: {
    headers: HeaderMapType.RequestHeaders,
    trailers: HeaderMapType.RequestTrailers,
    body: BufferType.HttpRequestBody,
  },
  response: {
    headers: HeaderMapType.ResponseHeaders,
    trailers: HeaderMapType.ResponseTrailers,
    body: BufferType.HttpResponseBody,
  },
} as const;

export class HttpContext {
  private readonly buffering = { request: false, response: false };

  constructor(
    private readonly host: ContextHost,
    private readonly state: ContextState,
  ) {
    state.propertyLookup = (path) => this.streamProperty(path);
  }

  get id(): number {
    return this.state.id;
  }

  get requestHeaders(): HeaderMap | undefined {
    return this.state.headerMaps.get(HeaderMapType.RequestHeaders);
  }
  get requestTrailers(): HeaderMap | undefined {
    return this.state.headerMaps.get(HeaderMapType.RequestTrailers);
  }
  get responseHeaders(): HeaderMap | undefined {
    return this.state.headerMaps.get(HeaderMapType.ResponseHeaders);
  }
  get responseTrailers(): HeaderMap | undefined {
    return this.state.headerMaps.get(HeaderMapType.ResponseTrailers);
  }
  /** The request body as the module left it (after set_buffer_bytes). */
  get requestBody(): Uint8Array {
    return this.state.buffers.get(BufferType.HttpRequestBody)?.bytes ?? new Uint8Array(0);
  }
  get responseBody(): Uint8Array {
    return this.state.buffers.get(BufferType.HttpResponseBody)?.bytes ?? new Uint8Array(0);
  }
  /** Set once the module called proxy_send_local_response. */
  get localResponse(): LocalResponse | undefined {
    return this.state.localResponse;
  }
  get continued(): readonly number[] {
    return this.state.continued;
  }
  get closed(): readonly number[] {
    return this.state.closed;
  }

  onRequestHeaders(headers: HeaderInput | HeaderMap, endOfStream: boolean): number {
    return this.onHeaders("request", "proxy_on_request_headers", headers, endOfStream);
  }
  onRequestBody(chunk: Uint8Array, endOfStream: boolean): number {
    return this.onBody("request", "proxy_on_request_body", chunk, endOfStream);
  }
  onRequestTrailers(trailers: HeaderInput | HeaderMap): number {
    return this.onTrailers("request", "proxy_on_request_trailers", trailers);
  }
  onResponseHeaders(headers: HeaderInput | HeaderMap, endOfStream: boolean): number {
    return this.onHeaders("response", "proxy_on_response_headers", headers, endOfStream);
  }
  onResponseBody(chunk: Uint8Array, endOfStream: boolean): number {
    return this.onBody("response", "proxy_on_response_body", chunk, endOfStream);
  }
  onResponseTrailers(trailers: HeaderInput | HeaderMap): number {
    return this.onTrailers("response", "proxy_on_response_trailers", trailers);
  }

  onLog(): void {
    this.host.call("proxy_on_log", this.state, this.id);
  }
  /** True when the module is done with the stream (a module without on_done always is). */
  onDone(): boolean {
    const r = this.host.call("proxy_on_done", this.state, this.id);
    return r === undefined || r !== 0;
  }
  onDelete(): void {
    try {
      this.host.call("proxy_on_delete", this.state, this.id);
    } finally {
      this.host.release(this.state);
    }
  }
  /** End of stream as Envoy sequences it: on_done, on_log, on_delete. */
  finish(): void {
    this.onDone();
    this.onLog();
    this.onDelete();
  }

  private onHeaders(dir: Direction, name: string, headers: HeaderInput | HeaderMap, end: boolean): number {
    const map = headers instanceof HeaderMap ? headers : HeaderMap.from(headers);
    this.state.headerMaps.set(SIDES[dir].headers, map);
    this.state.stopIteration = false;
    const args = this.host.abiVersion === "0.1.0" ? [this.id, map.size] : [this.id, map.size, end ? 1 : 0];
    return headersStatus(this.state, this.host.call(name, this.state, ...args));
  }

  private onBody(dir: Direction, name: string, chunk: Uint8Array, end: boolean): number {
    const type = SIDES[dir].body;
    const previous = this.state.buffers.get(type);
    const bytes = this.buffering[dir] && previous ? concat(previous.bytes, chunk) : chunk;
    this.state.buffers.set(type, new HostBuffer(bytes, true));
    this.state.stopIteration = false;
    this.state.endOfStreamBody = end ? dir : undefined;
    try {
      const status = dataStatus(this.state, this.host.call(name, this.state, this.id, bytes.length, end ? 1 : 0));
      this.buffering[dir] =
        status === FilterDataStatus.StopIterationAndBuffer || status === FilterDataStatus.StopIterationAndWatermark;
      return status;
    } finally {
      this.state.endOfStreamBody = undefined;
    }
  }

  private onTrailers(dir: Direction, name: string, trailers: HeaderInput | HeaderMap): number {
    const map = trailers instanceof HeaderMap ? trailers : HeaderMap.from(trailers);
    this.state.headerMaps.set(SIDES[dir].trailers, map);
    this.state.stopIteration = false;
    return trailersStatus(this.state, this.host.call(name, this.state, this.id, map.size));
  }

  /** A few of Envoy's request/response attributes, derived from the headers. */
  private streamProperty(path: string): Uint8Array | undefined {
    const req = this.requestHeaders;
    const header = (h: string) => {
      const v = req?.get(h);
      return v === undefined ? undefined : encodePropertyValue(v);
    };
    switch (path.replace(/\0+$/, "")) {
      case "request\0path":
        return header(":path");
      case "request\0url_path": {
        const p = req?.get(":path");
        return p === undefined ? undefined : encodePropertyValue(p.split("?")[0] ?? "");
      }
      case "request\0method":
        return header(":method");
      case "request\0host":
        return header(":authority");
      case "request\0scheme":
        return header(":scheme");
      case "request\0useragent":
        return header("user-agent");
      case "request\0id":
        return header("x-request-id");
      case "response\0code": {
        const s = this.responseHeaders?.get(":status") ?? this.localResponse?.status;
        return s === undefined ? undefined : encodePropertyValue(BigInt(Number(s) || 0));
      }
      default:
        return undefined;
    }
  }
}
