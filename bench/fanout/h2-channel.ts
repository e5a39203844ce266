/**
 * gRPC bidirectional streams over Node's own http2, for the fan-out
 * benchmark's `--client h2`: the simulated Envoys' ADS streams without
 * grpc-js channels, so that a connect storm of thousands of nodes measures
 * the server rather than the clients (grpc-js's channel, subchannel,
 * resolver and call stack cost the clients 2.8-6.2 ms of CPU per node in a
 * storm; Node's http2 alone about 1.3-1.6 ms, bench/transport-floor).
 *
 * It offers the one method the simulator's ADS client (src/sim/xds) calls on
 * a grpc-js Client, `makeBidiStreamRequest`, and a call with the events and
 * methods that client uses (`data`, `status`, `error`; `write`, `cancel`),
 * so the protocol, the ACKs and NACKs stay the simulator's, unchanged.
 * What gRPC over HTTP/2 needs (grpc/doc/PROTOCOL-HTTP2.md): a POST with
 * `content-type: application/grpc` and `te: trailers`; each message in a
 * 5-byte frame (compressed flag, 4-byte big-endian length); the status in
 * the trailers (`grpc-status`, `grpc-message`), or in the headers of a
 * trailers-only response. One HTTP/2 connection per channel, as one Envoy
 * has one connection to its management server; a new one when it closed.
 */
import { EventEmitter } from "node:events";
import http2 from "node:http2";

/** google.rpc.Code values this transport reports itself. */
export const Status = { OK: 0, CANCELLED: 1, UNKNOWN: 2, INTERNAL: 13, UNAVAILABLE: 14, RESOURCE_EXHAUSTED: 8 } as const;

/** The largest message accepted: the peer controls the length prefix (a 17 KB module inline is far below). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface CallStatus {
  readonly code: number;
  readonly details: string;
}

/** One gRPC call: `data` per message (Buffer), then `status` once (CallStatus). */
export class H2Call extends EventEmitter {
  /** DATA received and not yet a whole message; joined once per message, not once per chunk. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private status: CallStatus | undefined;
  private ended = false;

  constructor(private readonly stream: http2.ClientHttp2Stream) {
    super();
    stream.on("response", (headers) => {
      const code = headers[":status"];
      if (code !== 200) this.status ??= { code: Status.UNKNOWN, details: `HTTP status ${code}` };
      // Trailers-only: the status rides in the headers.
      this.takeStatus(headers);
    });
    stream.on("trailers", (trailers) => this.takeStatus(trailers));
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    // The server ended its side (trailers, or a trailers-only response): the call is over, whatever this side
    // still had to say; close the stream, which a half-closed stream would otherwise never do.
    stream.on("end", () => {
      this.end(this.status ?? { code: Status.UNKNOWN, details: "stream ended without a gRPC status" });
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    });
    // Reported through "status" when the stream closes.
    stream.on("error", () => {});
    stream.on("close", () => {
      const rst = stream.rstCode;
      this.end(
        this.status ??
          (rst === http2.constants.NGHTTP2_CANCEL
            ? { code: Status.CANCELLED, details: "stream cancelled" }
            : { code: Status.UNAVAILABLE, details: rst ? `stream reset with HTTP/2 code ${rst}` : "stream closed without a gRPC status" }),
      );
    });
  }

  /** Writes one message in its 5-byte gRPC frame. */
  write(message: Buffer): boolean {
    if (this.ended || this.stream.destroyed) return false;
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    return this.stream.write(frame);
  }

  /** Ends the call from this side (RST_STREAM CANCEL), as grpc-js's cancel() does. */
  cancel(): void {
    this.status ??= { code: Status.CANCELLED, details: "cancelled on the client" };
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  private takeStatus(headers: http2.IncomingHttpHeaders): void {
    const raw = headers["grpc-status"];
    if (raw === undefined || this.status) return;
    const code = Number(raw);
    const message = headers["grpc-message"];
    this.status = { code: Number.isInteger(code) ? code : Status.UNKNOWN, details: typeof message === "string" ? safeDecode(message) : "" };
  }

  /** Splits the DATA bytes into gRPC messages; a frame may span chunks and a chunk hold several frames. */
  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 5 && !this.ended) {
      // The 5-byte header may itself be split; join what there is (rare: at most once per message).
      if ((this.chunks[0] as Buffer).length < 5) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
      const head = this.chunks[0] as Buffer;
      const length = head.readUInt32BE(1);
      const bad =
        head[0] !== 0
          ? "compressed message, but no grpc-encoding was agreed"
          : length > MAX_MESSAGE_BYTES
            ? `message of ${length} bytes is over the limit of ${MAX_MESSAGE_BYTES}`
            : undefined;
      if (bad) {
        this.fail({ code: head[0] !== 0 ? Status.INTERNAL : Status.RESOURCE_EXHAUSTED, details: bad });
        return;
      }
      if (this.buffered < 5 + length) return;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks, this.buffered);
      const rest = all.subarray(5 + length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.emit("data", all.subarray(5, 5 + length));
    }
  }

  private fail(status: CallStatus): void {
    this.status = status;
    this.chunks = [];
    this.buffered = 0;
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  private end(status: CallStatus): void {
    if (this.ended) return;
    this.ended = true;
    this.emit("status", status);
  }
}

/** A channel to one server: one HTTP/2 connection, opened on the first call and again after it closed. */
export class H2Channel {
  private session: http2.ClientHttp2Session | undefined;
  private closed = false;

  /** `target`: host:port, plaintext (the benchmark's server listens without TLS). */
  constructor(private readonly target: string) {}

  /** A bidirectional streaming call; messages are Buffers as they are (the simulator encodes and decodes itself). */
  makeBidiStreamRequest(path: string): H2Call {
    const stream = this.connection().request(
      { ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", "user-agent": "wasmxds-bench-h2" },
      { endStream: false },
    );
    return new H2Call(stream);
  }

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }

  private connection(): http2.ClientHttp2Session {
    const live = this.session;
    if (live && !live.closed && !live.destroyed) return live;
    if (this.closed) throw new Error("channel closed");
    const session = http2.connect(`http://${this.target}`);
    // A failed connection fails its streams (each reports UNAVAILABLE on close); the client reconnects.
    session.on("error", () => {});
    session.on("close", () => {
      if (this.session === session) this.session = undefined;
    });
    // Envoy keeps its xDS connection open while idle; so does this one (no unref).
    this.session = session;
    return session;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
