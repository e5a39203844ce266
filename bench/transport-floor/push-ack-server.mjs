/** Server side of push-ack.mjs (raw http2 or grpc-js). */
import http2 from "node:http2";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const grpc = require("@grpc/grpc-js");
const mode = process.argv[2]; // raw | grpc
const size = Number(process.argv[3] ?? 500);
const streams = [];
const body = Buffer.alloc(size, 7);
let acks = 0, want = 0, t0, c0, resolveRound;
function framed(b) { const o = Buffer.allocUnsafe(b.length + 5); o[0] = 0; o.writeUInt32BE(b.length, 1); b.copy(o, 5); return o; }
const frame = framed(body);
function onAck() { if (++acks === want) { const c = process.cpuUsage(c0); resolveRound({ wallMs: performance.now() - t0, cpuUs: c.user + c.system }); } }
let port;
if (mode === "raw") {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 100 } });
  server.on("stream", (stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    streams.push({ write: () => stream.write(frame) });
    stream.on("data", () => { onAck(); });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  port = server.address().port;
} else {
  const server = new grpc.Server({ "grpc.enable_channelz": 0 });
  const def = { S: { path: "/x.X/S", requestStream: true, responseStream: true, requestSerialize: (b) => b, requestDeserialize: (b) => b, responseSerialize: (b) => b, responseDeserialize: (b) => b } };
  server.addService(def, { S: (call) => { streams.push({ write: () => call.write(body, () => {}) }); call.on("data", () => onAck()); } });
  port = await new Promise((r, j) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
}
process.send({ port });
process.on("message", async (m) => {
  if (m.op === "round") {
    acks = 0; want = streams.length; t0 = performance.now(); c0 = process.cpuUsage();
    const done = new Promise((r) => (resolveRound = r));
    let i = 0;
    const batch = () => { const end = Math.min(i + 256, streams.length); for (; i < end; i++) streams[i].write(); if (i < streams.length) setImmediate(batch); };
    batch();
    process.send({ ...(await done), n: streams.length });
  }
});
