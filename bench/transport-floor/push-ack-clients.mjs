/** Client side of push-ack.mjs: raw HTTP/2 streams that answer every message. */
import http2 from "node:http2";
const [port, count] = process.argv.slice(2).map(Number);
const ack = Buffer.from([0, 0, 0, 0, 20, ...Buffer.alloc(20, 1)]);
let open = 0;
for (let i = 0; i < count; i++) {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  const st = s.request({ ":method": "POST", ":path": "/x.X/S", "content-type": "application/grpc", te: "trailers" }, { endStream: false });
  st.write(ack);
  st.on("data", () => { st.write(ack); });
  s.on("connect", () => { if (++open === count) setTimeout(() => process.send({ open }), 500); });
}
