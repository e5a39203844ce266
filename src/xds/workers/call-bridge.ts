/**
 * Main side of the forwarded services (`--workers N`): the client-streaming
 * services registered here (the metrics service and the access log
 * service call addService as they do on a gRPC server) run in this process,
 * on calls whose bytes a worker forwards (worker-bridge.ts). Each call is
 * given to the service's handler as a call object with what it reads of a
 * grpc-js call (data, end, cancelled and error events, the peer, the
 * client certificate), and its answer goes back to the worker.
 */
import { EventEmitter } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import type { BridgedCertificate, BridgeReply, StreamItem } from "./protocol";

type Handler = (call: BridgedCall, callback: grpc.sendUnaryData<unknown>) => void;

interface Method {
  readonly definition: grpc.MethodDefinition<unknown, unknown>;
  readonly handler: Handler;
}

/** What a client-streaming handler reads of its call. */
export class BridgedCall extends EventEmitter {
  constructor(
    private readonly peer: string,
    private readonly cert: BridgedCertificate | null,
  ) {
    super();
  }

  getPeer(): string {
    return this.peer;
  }

  getAuthContext(): { sslPeerCertificate?: BridgedCertificate } {
    return this.cert ? { sslPeerCertificate: this.cert } : {};
  }
}

/** The services forwarded from the workers, and their open calls. */
export class CallBridge {
  private readonly methods = new Map<string, Method>();
  private readonly calls = new Map<string, { call: BridgedCall; method: Method }>();

  /** Registers a service as grpc.Server.addService does; only client-streaming methods can be forwarded. */
  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    for (const [name, definition] of Object.entries(service)) {
      if (!definition.requestStream || definition.responseStream) throw new Error(`${definition.path}: only client-streaming methods are forwarded from the xDS workers`);
      const handler = implementation[name];
      if (typeof handler !== "function") throw new Error(`${definition.path}: no handler`);
      // The handlers read only what BridgedCall gives (health/client-stream.ts).
      this.methods.set(definition.path, { definition, handler: handler as unknown as Handler });
    }
  }

  /** The paths the workers forward. */
  paths(): string[] {
    return [...this.methods.keys()];
  }

  /** Applies a worker's call items; answers go through `reply`. */
  apply(worker: number, item: StreamItem, reply: (worker: number, r: BridgeReply) => void): void {
    switch (item[0]) {
      case "call": {
        const [, id, path, peer, cert] = item;
        const method = this.methods.get(path);
        if (!method) {
          reply(worker, [id, 12, `${path} is not served`, null]);
          return;
        }
        const key = `${worker}:${id}`;
        const call = new BridgedCall(peer, cert);
        this.calls.set(key, { call, method });
        method.handler(call, (err, value) => {
          if (!this.calls.delete(key)) return;
          if (err) reply(worker, [id, err.code ?? 2, err.details ?? ("message" in err ? err.message : "error"), null]);
          else reply(worker, [id, 0, "", value instanceof Uint8Array ? value : (method.definition.responseSerialize(value) as Uint8Array)]);
        });
        return;
      }
      case "data": {
        const open = this.calls.get(`${worker}:${item[1]}`);
        if (!open) return;
        const raw = item[2];
        const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
        open.call.emit("data", open.method.definition.requestDeserialize(bytes));
        return;
      }
      case "end": {
        const key = `${worker}:${item[1]}`;
        const open = this.calls.get(key);
        if (!open) return;
        if (item[2] === "end") {
          open.call.emit("end");
          return;
        }
        this.calls.delete(key);
        open.call.emit(item[2] === "cancel" ? "cancelled" : "error", new Error("the call was cancelled"));
        return;
      }
      default:
        return;
    }
  }

  /** A worker is gone: its calls are cancelled. */
  workerGone(worker: number): void {
    for (const [key, open] of this.calls) {
      if (!key.startsWith(`${worker}:`)) continue;
      this.calls.delete(key);
      open.call.emit("cancelled");
    }
  }
}
