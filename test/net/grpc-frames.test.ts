/**
 * Ready gRPC frames through grpc-js (src/net/grpc-frames.ts): with the
 * installed grpc-js the hook is found (if an upgrade moves grpc-js's call
 * object this fails, and the server silently goes back to copying every
 * response), a framed message is written without a copy, and a real gRPC
 * client receives framed and plain messages alike, in order, intact.
 */
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { allocFramed, type Framed, framedOf, framedWrites } from "../../src/net/grpc-frames";

const identity = (b: Buffer) => b;
const SERVICE = {
  Echo: { path: "/test.Frames/Echo", requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
} satisfies grpc.ServiceDefinition;

function message(text: string): Buffer {
  const m = allocFramed(Buffer.byteLength(text));
  m.write(text);
  return m;
}

describe("gRPC frames", () => {
  let server: grpc.Server | undefined;
  afterEach(() => server?.forceShutdown());

  it("finds a framed message's frame without copying it, and nothing in other buffers", () => {
    const m = message("hello");
    const f = framedOf(m);
    expect(f?.frame.buffer).toBe(m.buffer);
    expect([...(f?.frame.subarray(0, 5) ?? [])]).toEqual([0, 0, 0, 0, 5]);
    expect(framedOf(Buffer.from("hello"))).toBeUndefined();
    expect(framedOf(m.subarray(1))).toBeUndefined();
    expect(framedOf(Buffer.concat([Buffer.from([0, 0, 0, 0, 5]), Buffer.from("hello")]).subarray(5))).toBeUndefined();
  });

  it("writes framed messages as they are on a real call, plain ones as before, in order", async () => {
    server = new grpc.Server();
    const hooked: boolean[] = [];
    const passedThrough: boolean[] = [];
    server.addService(SERVICE, {
      Echo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        hooked.push(framedWrites(call));
        const inner = (call as unknown as { call: { serializeMessage(v: unknown): Buffer } }).call;
        const framed = framedOf(message("first, framed")) as Framed;
        passedThrough.push(inner.serializeMessage(framed) === framed.frame);
        // The transport writes Framed bodies through the Buffer-typed call, as xds-server.ts does.
        const write = (m: Buffer | Framed | undefined) => (call as unknown as { write(m: unknown): boolean }).write(m);
        call.on("data", () => {
          write(framed);
          write(Buffer.from("second, plain"));
          write(framedOf(message("third, framed")));
          call.end();
        });
      },
    });
    const port = await new Promise<number>((resolve, reject) => server?.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const Client = grpc.makeGenericClientConstructor(SERVICE, "Frames");
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = (client as unknown as { Echo(): grpc.ClientDuplexStream<Buffer, Buffer> }).Echo();
      call.on("data", (b: Buffer) => received.push(b.toString()));
      call.on("end", () => resolve());
      call.on("error", reject);
      call.write(Buffer.from("go"));
    });
    client.close();
    expect(hooked).toEqual([true]);
    expect(passedThrough).toEqual([true]);
    expect(received).toEqual(["first, framed", "second, plain", "third, framed"]);
  });
});
