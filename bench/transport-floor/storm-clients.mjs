/** Client side of storm.mjs. */
import http2 from "node:http2";
const [port, count] = process.argv.slice(2).map(Number);
const req = Buffer.from([0, 0, 0, 0, 20, ...Buffer.alloc(20, 1)]);
process.on("message", () => {
  let done = 0; const t0 = performance.now(); const c0 = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    const st = s.request({ ":method": "POST", ":path": "/x.X/S", "content-type": "application/grpc", te: "trailers" }, { endStream: false });
    let got = 0;
    st.write(req);
    st.on("data", () => { if (++got < 5) st.write(req); else if (++done === count) { const c = process.cpuUsage(c0); process.send({ ms: performance.now() - t0, cpuUs: c.user + c.system }); } });
  }
});
process.send({ ready: true });
