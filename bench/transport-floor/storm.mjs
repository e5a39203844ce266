/**
 * Transport floor of a connect storm (issue 18): the server CPU per node of
 * accepting N HTTP/2 connections at once, each opening one stream and doing
 * five request/response exchanges (2 KB responses), with Node's http2 alone
 * (`raw`) or grpc-js (`grpc`). Clients are raw HTTP/2 in two processes.
 *
 *   node bench/transport-floor/storm.mjs raw|grpc <nodes>
 */
import { fork } from "node:child_process";
const [mode, n] = process.argv.slice(2);
const srv = fork(new URL("./storm-server.mjs", import.meta.url), [mode]);
const { port } = await new Promise((r) => srv.once("message", r));
const per = Math.ceil(Number(n) / 2);
const cls = [fork(new URL("./storm-clients.mjs", import.meta.url), [port, per]), fork(new URL("./storm-clients.mjs", import.meta.url), [port, Number(n) - per])];
await Promise.all(cls.map((c) => new Promise((r) => c.once("message", r))));
srv.send({ op: "start" });
for (const c of cls) c.send({ op: "go" });
const res = await Promise.all(cls.map((c) => new Promise((r) => c.once("message", r))));
srv.send({ op: "cpu" });
const { cpuUs } = await new Promise((r) => srv.once("message", r));
console.log(mode, n, "server CPU µs/node", (cpuUs / Number(n)).toFixed(0), "client CPU µs/node", (res.reduce((a, r) => a + r.cpuUs, 0) / Number(n)).toFixed(0), "wall ms", Math.max(...res.map((r) => r.ms)).toFixed(0));
srv.kill();
for (const c of cls) c.kill();
