/**
 * The part the raw xDS test clients share (ads-client.ts for
 * state-of-the-world, delta-client.ts for delta): one bidirectional stream
 * on @grpc/grpc-js, responses decoded into a queue a test takes from in
 * order (optionally by type), and the stream's final status.
 */
import * as grpc from "@grpc/grpc-js";
import { decodeMessage } from "../../src/proto/registry";

export class ResponseStream<T extends { readonly type_url: string }> {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly queue: T[] = [];
  private waiters: Array<() => void> = [];
  /** Final status of the stream, once it ends. */
  readonly ended: Promise<grpc.StatusObject>;

  constructor(
    readonly port: number,
    path: string,
    /** The response message's full name, e.g. envoy.service.discovery.v3.DiscoveryResponse. */
    private readonly responseType: string,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
    /** E.g. `grpc.use_local_subchannel_pool` for a connection of its own, as each Envoy has (grpc-js shares one otherwise). */
    channelOptions: grpc.ChannelOptions = {},
  ) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, credentials, channelOptions);
    this.call = this.client.makeBidiStreamRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    this.call.on("data", (bytes: Buffer) => {
      this.queue.push(decodeMessage<T>(responseType, bytes));
      for (const w of this.waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => {
      this.call.on("status", (s: grpc.StatusObject) => {
        resolve(s);
        for (const w of this.waiters.splice(0)) w();
      });
    });
    this.call.on("error", () => {});
  }

  protected write(bytes: Buffer): void {
    this.call.write(bytes);
  }

  /** The next response (optionally of a type), or throws after `timeoutMs`. */
  async next(typeUrl?: string, timeoutMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((r) => !typeUrl || r.type_url === typeUrl);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${typeUrl ?? "any"} ${this.responseType.split(".").pop()} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Every response that arrives within `ms` (a test that expects none). */
  async drain(ms = 200): Promise<T[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.queue.splice(0);
  }

  /** Half-closes the stream (the client is done sending). */
  close(): void {
    this.call.end();
    this.client.close();
  }

  cancel(): void {
    this.call.cancel();
    this.client.close();
  }
}
