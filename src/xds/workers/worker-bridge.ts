/**
 * Worker side of the forwarded services: the client-streaming methods the
 * main process serves (the metrics service, the access log service) are
 * registered here with bytes in and bytes out; each call's opening (peer
 * and client certificate), messages and end go to the main process, which
 * runs the real handler and answers with the call's status.
 */
import type * as grpc from "@grpc/grpc-js";
import type { PeerAuth } from "../../net/node-identity";
import type { BridgedCertificate, BridgeReply, StreamItem } from "./protocol";

export interface BridgeEnd {
  /** Answers calls (status, and the response bytes when OK). */
  reply(items: readonly BridgeReply[]): void;
  /** Ends every forwarded call (shutdown). */
  closeAll(): void;
}

const same = (b: Buffer) => b;

type Callback = grpc.sendUnaryData<Buffer>;

export function bridgeCalls(server: grpc.Server, paths: readonly string[], queue: (item: StreamItem) => void): BridgeEnd {
  const open = new Map<number, { call: grpc.ServerReadableStream<Buffer, Buffer>; callback: Callback }>();
  let nextId = 1;
  for (const path of paths) {
    const method = path.slice(path.lastIndexOf("/") + 1);
    const definition: grpc.ServiceDefinition = {
      [method]: { path, requestStream: true, responseStream: false, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same },
    };
    server.addService(definition, {
      [method]: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: Callback) => {
        const id = nextId++;
        open.set(id, { call, callback });
        queue(["call", id, path, call.getPeer(), certificateOf(call.getAuthContext() as PeerAuth)]);
        call.on("data", (bytes: Buffer) => {
          if (open.has(id)) queue(["data", id, bytes]);
        });
        const end = (how: "end" | "cancel" | "error") => {
          if (how !== "end") open.delete(id);
          queue(["end", id, how]);
        };
        call.on("end", () => end("end"));
        call.on("cancelled", () => end("cancel"));
        call.on("error", () => end("error"));
      },
    });
  }
  return {
    reply(items) {
      for (const [id, code, details, bytes] of items) {
        const held = open.get(id);
        if (!held) continue;
        open.delete(id);
        if (code === 0) held.callback(null, bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.alloc(0));
        else held.callback({ code, details });
      }
    },
    closeAll() {
      for (const [id, held] of open) {
        open.delete(id);
        held.call.destroy();
      }
    },
  };
}

/** What node identity reads of the peer's certificate: its CN and SANs (net/node-identity.ts). */
function certificateOf(auth: PeerAuth | undefined): BridgedCertificate | null {
  const cert = auth?.sslPeerCertificate;
  if (!cert) return null;
  const cn: unknown = cert.subject?.CN;
  return {
    ...((typeof cn === "string" || Array.isArray(cn)) && { subject: { CN: cn as string | string[] } }),
    ...(cert.subjectaltname !== undefined && { subjectaltname: cert.subjectaltname }),
  };
}
