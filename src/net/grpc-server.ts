/**
 * Binds a gRPC server (plaintext, as Envoy's ADS cluster usually is on a
 * loopback or mesh network, or TLS with the credentials of grpc-tls.ts)
 * and shuts it down without hanging: calls get
 * a grace period, then every connection is closed, whether or not its
 * client reads (docs/RELIABILITY.md, "Shutdown").
 */
import type { Server as NetServer, Socket } from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../logger";
import { AddressLimit, clientAddress } from "./address-limit";

export interface BoundGrpcServer {
  readonly server: grpc.Server;
  readonly host: string;
  readonly port: number;
  /** Stops accepting calls and waits for open ones to end, at most `graceMs` (0: at once); then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

export const MAX_STREAMS_PER_CONNECTION = 100;

/**
 * Open connections one client address may hold (`--max-connections-per-address`).
 * An Envoy holds one connection to its ADS cluster (two with a separate metrics
 * or access-log cluster); a thousand leaves room for many Envoys behind one
 * NAT address while one host opening connections in a loop is stopped long
 * before file descriptors or memory run out. 0: no limit.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 1000;

export interface BindOptions {
  /** Connections one client address may hold at once; more are closed before the TLS or HTTP/2 handshake (0: no limit). */
  readonly maxConnectionsPerAddress?: number;
  /** Told of each refused connection (rate limiting is the caller's). */
  readonly onRefused?: (address: string, open: number, limit: number) => void;
  readonly logger?: Logger;
}

export const GRPC_SERVER_OPTIONS: grpc.ServerOptions = {
  // Envoy keeps ADS streams open for the life of the process.
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": 10_000,
  // A larger request is refused by grpc-js with RESOURCE_EXHAUSTED before it is decoded.
  "grpc.max_receive_message_length": 16 * 1024 * 1024,
  // Per HTTP/2 connection (SETTINGS_MAX_CONCURRENT_STREAMS): an Envoy opens one ADS
  // stream and at most a few more (metrics, access logs); more are refused.
  "grpc.max_concurrent_streams": MAX_STREAMS_PER_CONNECTION,
  "grpc.max_send_message_length": 256 * 1024 * 1024,
  // Channelz keeps per-connection bookkeeping (a registry entry, call and
  // message counters stamped with Date.now() on every message) for a
  // channelz service this server does not expose; with 10,000 Envoys that
  // is memory and CPU on every push and ACK for nothing (docs/PERFORMANCE.md).
  "grpc.enable_channelz": 0,
};

/**
 * Connections the kernel holds for the gRPC port before the server accepts
 * them (the kernel caps it at net.core.somaxconn, 4096 on current Linux).
 * Node listens with 511 and grpc-js does not pass a backlog: when thousands
 * of Envoys reconnect at once (a control-plane restart), connections past
 * the 511th were dropped while the event loop was busy setting up the
 * others (TcpExtListenOverflows), and each dropped Envoy waited for its SYN
 * to be retried, seconds later, then for gRPC's reconnect backoff
 * (docs/PERFORMANCE.md, round two: the connect storm).
 */
export const LISTEN_BACKLOG = 4096;

export async function bindGrpcServer(
  server: grpc.Server,
  host: string,
  port: number,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
  options: BindOptions = {},
): Promise<BoundGrpcServer> {
  // A Unix socket path (an xDS worker's private socket: it is handed its connections, workers/).
  const target = host.startsWith("unix:") ? host : host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  listenWithBacklog(server, LISTEN_BACKLOG);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });
  const sockets = trackSockets(server, options);
  const force = () => {
    server.forceShutdown();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    server,
    host,
    port: bound,
    close: (graceMs = 2000) =>
      new Promise<void>((resolve) => {
        if (graceMs <= 0) {
          force();
          resolve();
          return;
        }
        const timer = setTimeout(() => {
          force();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          // Every call ended; what is left is sockets Node is still flushing to peers that do not read.
          force();
          resolve();
        });
      }),
  };
}

const withBacklog = new WeakSet<grpc.Server>();

/**
 * Makes the HTTP/2 servers grpc-js creates for `server` listen with
 * `backlog`. grpc-js (1.14) creates them in its createHttp2Server and calls
 * listen({ host, port }) or listen({ path }); this wraps that one method of
 * this one server. false (nothing changed, Node's 511 stays) if a grpc-js
 * upgrade renames it: test/net/listen-backlog.test.ts fails first.
 */
export function listenWithBacklog(server: grpc.Server, backlog: number): boolean {
  const s = server as unknown as { createHttp2Server?: unknown };
  const create = s.createHttp2Server;
  if (typeof create !== "function") return false;
  if (withBacklog.has(server)) return true;
  withBacklog.add(server);
  s.createHttp2Server = function createWithBacklog(this: unknown, ...args: unknown[]): unknown {
    const http2Server = (create as (...a: unknown[]) => NetServer).apply(this, args);
    const listen = http2Server.listen as (...a: unknown[]) => NetServer;
    http2Server.listen = function listenWithBacklog(this: NetServer, ...listenArgs: unknown[]): NetServer {
      const [address, ...rest] = listenArgs;
      if (address !== null && typeof address === "object") return listen.call(this, { ...address, backlog }, ...rest);
      return listen.apply(this, listenArgs);
    } as NetServer["listen"];
    return http2Server;
  };
  return true;
}

/**
 * The TCP connections of the server, to destroy on a forced shutdown.
 * grpc-js's forceShutdown destroys each HTTP/2 session, and Node then ends
 * the session's socket with socket.end(), which waits until everything
 * written has been sent: to a client that does not read, never, and the
 * process stayed up until the client went (issue 11, item 4). grpc-js does
 * not expose its HTTP/2 servers, so this reads its private `http2Servers`
 * (grpc-js 1.14) right after binding, before any connection is accepted;
 * if a grpc-js upgrade removes it, nothing is tracked and the CLI's exit
 * backstop (bin/wasmxds.js) still ends the process
 * (test/reliability/shutdown.test.ts fails first).
 *
 * The same hook counts connections per client address and closes one over
 * the limit as it arrives, before any handshake, so one host cannot hold
 * the server's file descriptors (test/net/connection-limit.test.ts).
 */
function trackSockets(server: grpc.Server, options: BindOptions): Set<Socket> {
  const sockets = new Set<Socket>();
  const servers = http2ServersOf(server);
  if (!servers) {
    if ((options.maxConnectionsPerAddress ?? 0) > 0) options.logger?.warn("this grpc-js version hides its HTTP/2 servers: connections per address are not limited");
    return sockets;
  }
  const limit = new AddressLimit(options.maxConnectionsPerAddress ?? 0);
  for (const http2Server of servers) {
    http2Server.on("connection", (socket: Socket) => {
      const address = clientAddress(socket);
      if (!limit.admit(address)) {
        const open = limit.count(address);
        socket.destroy();
        options.onRefused?.(address, open, limit.limit);
        return;
      }
      sockets.add(socket);
      socket.once("close", () => {
        sockets.delete(socket);
        limit.release(address);
      });
    });
  }
  return sockets;
}

/**
 * The HTTP/2 servers grpc-js made for `server` (its private `http2Servers`,
 * grpc-js 1.14), once bound; undefined if a grpc-js upgrade hides them.
 * An xDS worker hands them the connections its main process accepted.
 */
export function http2ServersOf(server: grpc.Server): NetServer[] | undefined {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  return servers instanceof Map ? [...(servers.keys() as Iterable<NetServer>)] : undefined;
}
