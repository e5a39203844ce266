/**
 * The xDS port with `--workers`: this process accepts every connection and
 * hands it to the worker holding the fewest (Node passes the socket over
 * the IPC channel; the worker's gRPC server takes it as its own). One
 * place accepts, so the per-address limit counts every connection of a
 * host whichever worker serves it, the listen backlog is the one of
 * grpc-server.ts, and port 0 is one port however many workers there are.
 *
 * At most MAX_IN_FLIGHT sockets per worker are on their way at once; the
 * rest wait here, paused. Node's channel holds every later message to a
 * child behind a socket until the child acknowledges it, and re-queues the
 * whole backlog on each acknowledgement: with a connect storm's thousands
 * of sockets handed at once, that cost the main process about 250 µs per
 * connection (quadratic), and the snapshots and placements for the streams
 * waited behind the sockets (docs/PERFORMANCE.md, "Workers").
 */
import { createServer, type Server, type Socket } from "node:net";
import { AddressLimit, clientAddress } from "../../net/address-limit";
import { LISTEN_BACKLOG } from "../../net/grpc-server";

/** Sockets handed to one worker and not yet reported taken. */
export const MAX_IN_FLIGHT = 4;

export interface RouterTarget {
  /** Workers ready for connections, by index. */
  ready(): readonly number[];
  /** Hands a paused socket to a worker; false if it could not be sent. */
  hand(worker: number, id: number, socket: Socket): boolean;
}

export class ConnectionRouter {
  private readonly server: Server;
  private readonly limit: AddressLimit;
  /** Open connections: id -> worker and address. */
  private readonly open = new Map<number, { worker: number; address: string }>();
  private readonly perWorker = new Map<number, number>();
  /** Per worker: sockets waiting to be handed, and how many are on their way. */
  private readonly queues = new Map<number, Array<{ id: number; socket: Socket }>>();
  private readonly inFlight = new Map<number, number>();
  private nextId = 1;

  constructor(
    private readonly target: RouterTarget,
    maxConnectionsPerAddress: number,
    private readonly onRefused: (address: string, open: number, limit: number) => void,
    private readonly onUnserved: (address: string) => void,
  ) {
    this.limit = new AddressLimit(maxConnectionsPerAddress);
    this.server = createServer({ pauseOnConnect: true }, (socket) => this.route(socket));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host, port, backlog: LISTEN_BACKLOG }, () => {
        this.server.off("error", reject);
        const address = this.server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  }

  /** A worker reported a connection closed. */
  closed(id: number): void {
    const c = this.open.get(id);
    if (!c) return;
    this.open.delete(id);
    this.limit.release(c.address);
    this.perWorker.set(c.worker, (this.perWorker.get(c.worker) ?? 1) - 1);
  }

  /** A worker took a socket it was handed: the next may go. */
  taken(worker: number): void {
    this.inFlight.set(worker, Math.max(0, (this.inFlight.get(worker) ?? 0) - 1));
    this.pump(worker);
  }

  /** A worker is gone, and every connection it held or was to be handed. */
  workerGone(worker: number): void {
    for (const { socket } of this.queues.get(worker) ?? []) socket.destroy();
    this.queues.delete(worker);
    this.inFlight.delete(worker);
    for (const [id, c] of this.open) if (c.worker === worker) this.closed(id);
    this.perWorker.delete(worker);
  }

  /** Connections per worker (status, tests). */
  counts(): ReadonlyMap<number, number> {
    return this.perWorker;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private route(socket: Socket): void {
    const address = clientAddress(socket);
    socket.on("error", () => {});
    if (!this.limit.admit(address)) {
      const open = this.limit.count(address);
      socket.destroy();
      this.onRefused(address, open, this.limit.limit);
      return;
    }
    let best: number | undefined;
    for (const w of this.target.ready()) if (best === undefined || (this.perWorker.get(w) ?? 0) < (this.perWorker.get(best) ?? 0)) best = w;
    if (best === undefined) {
      this.limit.release(address);
      socket.destroy();
      this.onUnserved(address);
      return;
    }
    const id = this.nextId++;
    this.open.set(id, { worker: best, address });
    this.perWorker.set(best, (this.perWorker.get(best) ?? 0) + 1);
    let queue = this.queues.get(best);
    if (!queue) {
      queue = [];
      this.queues.set(best, queue);
    }
    queue.push({ id, socket });
    this.pump(best);
  }

  private pump(worker: number): void {
    const queue = this.queues.get(worker);
    if (!queue) return;
    let n = this.inFlight.get(worker) ?? 0;
    while (n < MAX_IN_FLIGHT && queue.length > 0) {
      const { id, socket } = queue.shift() as { id: number; socket: Socket };
      if (this.target.hand(worker, id, socket)) {
        n++;
      } else {
        socket.destroy();
        this.closed(id);
      }
    }
    this.inFlight.set(worker, n);
  }
}
