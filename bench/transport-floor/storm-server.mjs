/** Server side of storm.mjs. */
import http2 from "node:http2";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const grpc = require("@grpc/grpc-js");
const mode = process.argv[2];
const body = Buffer.alloc(2000, 7);
const frame = Buffer.allocUnsafe(body.length + 5); frame[0] = 0; frame.writeUInt32BE(body.length, 1); body.copy(frame, 5);
let c0;
let port;
if (mode === "raw") {
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("data", () => stream.write(frame));
  });
  await new Promise((r) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, r));
  port = server.address().port;
} else {
  const server = new grpc.Server({ "grpc.enable_channelz": 0 });
  const id = (b) => b;
  server.addService({ S: { path: "/x.X/S", requestStream: true, responseStream: true, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } }, { S: (call) => call.on("data", () => call.write(body)) });
  port = await new Promise((r, j) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
}
process.send({ port });
process.on("message", (m) => {
  if (m.op === "start") c0 = process.cpuUsage();
  if (m.op === "cpu") { const c = process.cpuUsage(c0); process.send({ cpuUs: c.user + c.system }); }
});
