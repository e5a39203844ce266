/**
 * Transport floor of a push (issue 18): the server CPU per node of writing one
 * pre-encoded message to every stream and reading each client's reply (an
 * ACK), with nothing of wasmxds in between: Node's http2 alone (`raw`) or a
 * grpc-js server with identity serializers (`grpc`). Clients are raw HTTP/2
 * in two processes. 7 rounds, the first dropped; prints the median.
 *
 *   node bench/transport-floor/push-ack.mjs raw|grpc <message bytes> <nodes>
 */
import { fork } from "node:child_process";
const [mode, size, n] = process.argv.slice(2);
const srv = fork(new URL("./push-ack-server.mjs", import.meta.url), [mode, size]);
const { port } = await new Promise((r) => srv.once("message", r));
const per = Math.ceil(Number(n) / 2);
const cls = [fork(new URL("./push-ack-clients.mjs", import.meta.url), [port, per]), fork(new URL("./push-ack-clients.mjs", import.meta.url), [port, Number(n) - per])];
await Promise.all(cls.map((c) => new Promise((r) => c.once("message", r))));
await new Promise((r) => setTimeout(r, 1500));
const res = [];
for (let k = 0; k < 7; k++) {
  srv.send({ op: "round" });
  const m = await new Promise((r) => srv.once("message", r));
  res.push(m);
  await new Promise((r) => setTimeout(r, 300));
}
const per_ = res.slice(1).map((r) => r.cpuUs / r.n).sort((a, b) => a - b);
console.log(mode, size, n, "cpu µs/node median", per_[3].toFixed(1), "all", per_.map((x) => x.toFixed(0)).join(","), "wall ms", res.slice(1).map((r) => r.wallMs.toFixed(0)).join(","));
srv.kill();
for (const c of cls) c.kill();
