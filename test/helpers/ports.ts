/** Ports for tests that must name one before anything listens (a restart on the same port, a child process's flags). */
import { createServer } from "node:net";

/** A port nothing listens on: bound on 127.0.0.1 port 0, then released. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
