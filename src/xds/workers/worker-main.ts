/**
 * Body of an xDS worker process (`--workers N`; started by pool.ts through
 * Node's cluster, so every worker accepts connections on the one xDS port).
 * It runs what one process runs for its share of the streams: the gRPC
 * server with TLS, node identity and connection limits, and an XdsServer
 * whose cache holds the snapshots the main process sends. It decides
 * nothing: a stream's group comes from the main process (until then the
 * stream is in a group with no snapshot and is sent nothing), and what
 * happens on the streams goes back as events, in batches. The metrics and
 * access-log services are forwarded to the main process as bytes.
 */
import * as grpc from "@grpc/grpc-js";
import { SnapshotCache } from "../../cache/snapshot-cache";
import { errorMessage } from "../../errors";
import type { Server as NetServer, Socket } from "node:net";
import { bindGrpcServer, type BoundGrpcServer, GRPC_SERVER_OPTIONS, http2ServersOf } from "../../net/grpc-server";
import { CertificateRelay, tlsServerCredentials } from "../../net/grpc-tls";
import type { NodeInfo } from "../../vocabulary/node-info";
import { setStreamIdSpace, type StreamObserver, type XdsStream } from "../stream-base";
import { XdsServer } from "../xds-server";
import { bridgeCalls, type BridgeEnd } from "./worker-bridge";
import { type FromWorker, isToWorker, type StreamItem, type ToWorker, type WorkerInit } from "./protocol";
import { decodeSnapshot, HeldSnapshots } from "./snapshot-wire";
import { type WorkerLog, workerLogger } from "./worker-logger";

/** How long a report gathers what happens before it goes. */
const REPORT_EVERY_MS = 1;

/** The group of a stream the main process has not placed yet: no snapshot, so nothing is sent. */
export const PENDING_GROUP = "\0pending";

const send = (m: FromWorker): void => {
  if (process.connected) process.send?.(m);
};

class Worker {
  private readonly items: StreamItem[] = [];
  private readonly logs: WorkerLog[] = [];
  /** Streams whose subscription or blocked state changed since the last report: one item each per report. */
  private readonly subscriptions = new Set<XdsStream>();
  private readonly blocked = new Set<XdsStream>();
  private flushing = false;
  private readonly assigned = new WeakMap<NodeInfo, string>();
  private readonly held = new HeldSnapshots();
  private readonly cache = new SnapshotCache({ groupOf: (n) => this.assigned.get(n) ?? PENDING_GROUP, allowInconsistent: true });
  private readonly xds: XdsServer;
  private readonly server = new grpc.Server(GRPC_SERVER_OPTIONS);
  private readonly bridge: BridgeEnd;
  private readonly tls: CertificateRelay | undefined;
  private bound: BoundGrpcServer | undefined;
  /** grpc-js's HTTP/2 server, which takes the connections the main process hands over. */
  private http2: NetServer | undefined;

  constructor(private readonly init: WorkerInit) {
    setStreamIdSpace(init.firstStreamId, init.count);
    const logger = workerLogger((line) => this.log(line), init.debug, { component: "xds", worker: init.index });
    // Reported when the batch goes (after the connect event, delivered in a microtask), once per stream.
    const observer: StreamObserver = {
      subscriptionChanged: (s) => {
        this.subscriptions.add(s);
        this.schedule();
      },
      blockedChanged: (s: XdsStream) => {
        this.blocked.add(s);
        this.schedule();
      },
    };
    this.xds = new XdsServer({
      cache: this.cache,
      logger,
      nodeIdentity: init.nodeIdentity,
      observer,
      ...(init.limits && { limits: init.limits }),
      ...(init.maxStreams !== undefined && { maxStreams: init.maxStreams }),
    });
    this.xds.register(this.server);
    this.xds.events.on((e) => {
      switch (e.kind) {
        case "connect":
          this.queue(["connect", e.streamId, e.node, this.xds.stream(e.streamId)?.protocol ?? "sotw"]);
          break;
        case "push":
          this.queue(["push", e.streamId, e.typeUrl, e.version, e.nonce, e.resourceNames]);
          break;
        case "ack":
          this.queue(["ack", e.streamId, e.typeUrl, e.version]);
          break;
        case "nack":
          this.queue(["nack", e.nack.streamId, e.nack]);
          break;
        case "disconnect":
          this.queue(["close", e.streamId, e.reason]);
          break;
      }
    });
    this.bridge = bridgeCalls(this.server, init.bridged, (item) => this.queue(item));
    this.tls = init.tls && new CertificateRelay(init.tls);
  }

  async listen(): Promise<void> {
    // Bound to a private socket only so that grpc-js makes its HTTP/2 server; connections come from the main process.
    this.bound = await bindGrpcServer(this.server, `unix:${this.init.socketPath}`, 0, this.tls && tlsServerCredentials(this.tls));
    this.http2 = http2ServersOf(this.server)?.[0];
    if (!this.http2) throw new Error("this grpc-js version hides its HTTP/2 servers: an xDS worker cannot be handed connections");
    send({ t: "listening" });
  }

  /** A connection the main process accepted: grpc-js's server takes it as if it had accepted it (TLS first when on). */
  take(id: number, socket: Socket | undefined): void {
    if (!socket) return;
    if (!this.http2) {
      socket.destroy();
      this.queue(["gone", id]);
      return;
    }
    socket.once("close", () => this.queue(["gone", id]));
    this.http2.emit("connection", socket);
  }

  onMessage(m: ToWorker): void {
    switch (m.t) {
      case "snap":
        this.cache.setSnapshot(m.group, decodeSnapshot(m, this.held));
        break;
      case "drop":
        this.held.delete(m.group);
        this.cache.clearSnapshot(m.group);
        break;
      case "assign": {
        const ids: number[] = [];
        for (const [id, group] of m.items) {
          const node = this.xds.stream(id)?.nodeInfo;
          if (!node) continue;
          this.assigned.set(node, group);
          ids.push(id);
        }
        this.xds.regroupStreams(ids);
        break;
      }
      case "tls":
        this.tls?.set(m.material);
        break;
      case "reply":
        this.bridge.reply(m.items);
        break;
      case "close-streams":
        this.xds.closeAllStreams();
        break;
      case "shutdown":
        this.shutdown(m.graceMs).catch((err: unknown) => {
          send({ t: "log", level: "error", message: "xDS worker shutdown failed", fields: { worker: this.init.index, err: errorMessage(err) } });
          process.exit(1);
        });
        break;
      case "cpu": {
        const cpu = process.cpuUsage();
        const memory = process.memoryUsage();
        send({ t: "cpu", id: m.id, user: cpu.user, system: cpu.system, rss: memory.rss, heapUsed: memory.heapUsed });
        break;
      }
      case "init":
      case "conn":
        break;
    }
  }

  private queue(item: StreamItem): void {
    this.items.push(item);
    this.schedule();
  }

  private log(line: WorkerLog): void {
    this.logs.push(line);
    this.schedule();
  }

  /** One report per REPORT_EVERY_MS: what happened, then the subscriptions and blocked states that changed, and the log lines. */
  private schedule(): void {
    if (this.flushing) return;
    this.flushing = true;
    // A millisecond gathers a storm's many small turns into one report (each message costs a serialization and a write).
    setTimeout(() => {
      this.flushing = false;
      const items = this.items.splice(0);
      for (const s of this.subscriptions) {
        const { types, ignored } = s.subscriptions();
        items.push(["sub", s.id, types, ignored]);
      }
      this.subscriptions.clear();
      for (const s of this.blocked) items.push(["blocked", s.id, s.blockedSince !== undefined]);
      this.blocked.clear();
      send({ t: "batch", items, streams: this.xds.streamCount, ...(this.logs.length > 0 && { logs: this.logs.splice(0) }) });
    }, REPORT_EVERY_MS);
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.xds.closeAllStreams();
    this.bridge.closeAll();
    await this.bound?.close(graceMs);
    send({ t: "closed" });
    process.exit(0);
  }
}

let worker: Worker | undefined;
process.on("message", (m: unknown, handle: unknown) => {
  if (!isToWorker(m)) return;
  if (m.t === "conn") {
    send({ t: "took" });
    if (worker) worker.take(m.id, handle as Socket | undefined);
    else (handle as Socket | undefined)?.destroy();
    return;
  }
  if (m.t === "init") {
    if (worker) return;
    try {
      const w = new Worker(m);
      worker = w;
      w.listen().catch((err: unknown) => {
        send({ t: "failed", message: errorMessage(err), ...(typeof (err as { code?: unknown }).code === "string" && { code: (err as { code: string }).code }) });
        process.exit(1);
      });
    } catch (err) {
      send({ t: "failed", message: errorMessage(err) });
      process.exit(1);
    }
    return;
  }
  try {
    worker?.onMessage(m);
  } catch (err) {
    // The two processes disagree on what this one holds (a bug): start again clean; its Envoys reconnect.
    send({ t: "log", level: "error", message: "xDS worker cannot apply a message from the main process; exiting to be replaced", fields: { message: m.t, err: errorMessage(err) } });
    process.exit(1);
  }
});
// The main process is gone: so is the reason to serve.
process.on("disconnect", () => process.exit(0));
// Gone already while this code loaded (killed during start-up): the event above has passed.
if (!process.connected) process.exit(0);
send({ t: "loaded" });
