/**
 * Binds a gRPC server (plaintext, as Envoy's ADS cluster usually is on a
 * loopback or mesh network) and shuts it down without hanging.
 */
import * as grpc from "@grpc/grpc-js";

export interface BoundGrpcServer {
  readonly server: grpc.Server;
  readonly host: string;
  readonly port: number;
  /** Graceful shutdown, forced after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export const GRPC_SERVER_OPTIONS: grpc.ServerOptions = {
  // Envoy keeps ADS streams open for the life of the process.
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": 10_000,
  "grpc.max_receive_message_length": 16 * 1024 * 1024,
  "grpc.max_send_message_length": 256 * 1024 * 1024,
  // Channelz keeps per-connection bookkeeping (a registry entry, call and
  // message counters stamped with Date.now() on every message) for a
  // channelz service this server does not expose; with 10,000 Envoys that
  // is memory and CPU on every push and ACK for nothing (docs/PERFORMANCE.md).
  "grpc.enable_channelz": 0,
};

export async function bindGrpcServer(server: grpc.Server, host: string, port: number): Promise<BoundGrpcServer> {
  const target = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    server,
    host,
    port: bound,
    close: (graceMs = 2000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
