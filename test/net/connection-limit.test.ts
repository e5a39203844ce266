/**
 * Connections per client address on the gRPC port (issue 15,
 * `--max-connections-per-address`): one host holding the limit has its next
 * connection closed before any handshake, another address is not affected,
 * and a closed connection frees its place. Raw TCP sockets stand for a host
 * opening connections in a loop; a real ADS client shows the freed place
 * serves again.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogRecord } from "../../src/logger";
import { memoryLogger } from "../../src/logger";
import type { RunningWasmxds } from "../../src/main";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";
import { guardFolder, removeFolder } from "../helpers/config-folder";

/** A connected socket from `localAddress`, and a promise of its close (true: the server closed it before we did). */
async function open(port: number, localAddress = "127.0.0.1"): Promise<{ socket: Socket; closed: Promise<boolean>; close(): void }> {
  const socket = connect({ host: "127.0.0.1", port, localAddress });
  let ours = false;
  const closed = new Promise<boolean>((resolve) => socket.once("close", () => resolve(!ours)));
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  return {
    socket,
    closed,
    close: () => {
      ours = true;
      socket.destroy();
    },
  };
}

/** Whether `closed` settles within `ms` (real time: the server's reaction to a socket, not a timer of ours). */
async function settlesWithin(closed: Promise<boolean>, ms: number): Promise<boolean | "open"> {
  return Promise.race([closed, new Promise<"open">((r) => setTimeout(() => r("open"), ms))]);
}

describe("connections per client address", () => {
  let dir: string;
  let app: RunningWasmxds;
  const logger = memoryLogger();
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = await guardFolder({ module: "good_http" });
    app = await startTestApp(dir, { stateDir: null, logger, maxConnectionsPerAddress: 3 });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await app.close(0);
    await removeFolder(dir);
  });

  it("closes a host's connection over the limit at once, keeps the others, and serves again when one closes", async () => {
    const port = app.xdsAddress.port;
    const held = [await open(port), await open(port), await open(port)];
    sockets.push(...held.map((h) => h.socket));
    const fourth = await open(port);
    sockets.push(fourth.socket);
    expect(await settlesWithin(fourth.closed, 2000)).toBe(true);
    // The three held connections stay open.
    for (const h of held) expect(await settlesWithin(h.closed, 50)).toBe("open");
    const warning = logger.records.find((r: LogRecord) => r.msg === "refusing a gRPC connection: too many from one address");
    expect(warning?.fields).toMatchObject({ peer: "127.0.0.1", open: 3, limit: 3 });

    // Another address of the same machine has its own count.
    const other = await open(port, "127.0.0.2");
    sockets.push(other.socket);
    expect(await settlesWithin(other.closed, 300)).toBe("open");

    // One held connection closes: its place serves an Envoy again.
    held[0]?.close();
    await held[0]?.closed;
    const client = new AdsClient(port, { id: "after-close", cluster: "edge" });
    try {
      client.request({ typeUrl: TYPE_URLS.listener });
      expect((await client.next(TYPE_URLS.listener, 5000)).resources.length).toBeGreaterThan(0);
    } finally {
      client.cancel();
    }
  });
});
