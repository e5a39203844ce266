/**
 * The gRPC port listens with a backlog of LISTEN_BACKLOG (src/net/grpc-server.ts):
 * with Node's 511, a storm of reconnecting Envoys overflowed the accept
 * queue and the dropped ones waited seconds for SYN retries and gRPC
 * backoff. Checked on the listen call grpc-js makes through the real bind
 * (if a grpc-js upgrade renames createHttp2Server, listenWithBacklog is
 * false and this fails), and the port serves a real gRPC call.
 */
import { Server as NetServer } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bindGrpcServer, LISTEN_BACKLOG, listenWithBacklog } from "../../src/net/grpc-server";

const identity = (b: Buffer) => b;
const SERVICE = {
  Ping: { path: "/test.Backlog/Ping", requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
} satisfies grpc.ServiceDefinition;

describe("listen backlog of the gRPC port", () => {
  afterEach(() => vi.restoreAllMocks());

  it("listens with LISTEN_BACKLOG and serves", async () => {
    const listen = vi.spyOn(NetServer.prototype, "listen");
    const server = new grpc.Server();
    server.addService(SERVICE, { Ping: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => done(null, Buffer.from("pong")) });
    const bound = await bindGrpcServer(server, "127.0.0.1", 0);
    try {
      expect(LISTEN_BACKLOG).toBeGreaterThan(511);
      expect(listen.mock.calls.map((c) => (c[0] as { backlog?: number }).backlog)).toContain(LISTEN_BACKLOG);
      expect(listenWithBacklog(server, LISTEN_BACKLOG)).toBe(true);
      const Client = grpc.makeGenericClientConstructor(SERVICE, "Backlog");
      const client = new Client(`127.0.0.1:${bound.port}`, grpc.credentials.createInsecure());
      const reply = await new Promise<Buffer>((resolve, reject) =>
        (client as unknown as { Ping(b: Buffer, cb: (e: Error | null, r: Buffer) => void): void }).Ping(Buffer.from("ping"), (e, r) => (e ? reject(e) : resolve(r))),
      );
      client.close();
      expect(reply.toString()).toBe("pong");
    } finally {
      await bound.close(0);
    }
  });
});
