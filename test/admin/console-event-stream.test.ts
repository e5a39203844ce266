/**
 * GET /v1/events/stream, which the console's events page follows: server-
 * sent events over a real admin HTTP server. Replays the events after
 * `?after=N`, then sends each new one (id, event, data framing), keeps only
 * `?type=`; at most maxClients streams (one more is a 503, and a closed one
 * frees its place); a client that does not read is cut once maxBufferedBytes
 * wait for it; a keep-alive comment on the injected clock.
 */
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AdminRouter, startAdminServer } from "../../src/admin/admin-server";
import { EventStreams, addEventStreamRoute } from "../../src/admin/event-stream";
import { EventLog } from "../../src/events/event-log";
import { silentLogger } from "../../src/logger";
import type { ListeningHttp } from "../../src/net/http-listen";
import { FakeClock } from "../../src/time/fake-clock";
import { waitFor } from "../helpers/wait";

interface Setup {
  readonly log: EventLog;
  readonly streams: EventStreams;
  readonly base: string;
  readonly port: number;
  readonly clock: FakeClock;
}

let server: ListeningHttp | undefined;
const aborts: AbortController[] = [];

afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await server?.close();
  server = undefined;
});

async function setup(limits: { maxClients?: number; maxBufferedBytes?: number } = {}): Promise<Setup> {
  const clock = new FakeClock();
  const log = new EventLog(5000, clock);
  const streams = new EventStreams(log, { maxClients: limits.maxClients ?? 4, maxBufferedBytes: limits.maxBufferedBytes ?? 256 * 1024, keepAliveMs: 15_000 }, clock);
  server = await startAdminServer(addEventStreamRoute(new AdminRouter(), streams), { host: "127.0.0.1", port: 0 }, silentLogger);
  return { log, streams, clock, port: server.address.port, base: `http://127.0.0.1:${server.address.port}` };
}

/** Opens a stream and collects what arrives as text. */
async function follow(url: string): Promise<{ status: number; text: () => string }> {
  const abort = new AbortController();
  aborts.push(abort);
  const res = await fetch(url, { signal: abort.signal });
  let text = "";
  if (res.ok && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
      }
    })().catch(() => undefined);
  } else {
    text = await res.text();
  }
  return { status: res.status, text: () => text };
}

function ids(text: string): number[] {
  return [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
}

describe("GET /v1/events/stream", () => {
  it("replays the events after ?after=, then sends each new one as id, event and data", async () => {
    const s = await setup();
    for (let i = 1; i <= 3; i++) s.log.add("published", "config", `publish ${i}`);
    const got = await follow(`${s.base}/v1/events/stream?after=1`);
    expect(got.status).toBe(200);
    await waitFor("replay", () => ids(got.text()).length === 2);
    s.log.add("rollback", "health", "rolled back", { filter: "guard", nodes: ["n1"] });
    await waitFor("live event", () => ids(got.text()).length === 3);
    expect(ids(got.text())).toEqual([2, 3, 4]);
    const last = got.text().trim().split("\n\n").at(-1)!;
    expect(last.split("\n").slice(0, 2)).toEqual(["id: 4", "event: rollback"]);
    expect(JSON.parse(last.split("\n")[2]!.slice("data: ".length))).toMatchObject({ seq: 4, type: "rollback", message: "rolled back", details: { filter: "guard", nodes: ["n1"] } });
  });

  it("keeps only the types asked for", async () => {
    const s = await setup();
    const got = await follow(`${s.base}/v1/events/stream?type=rollback,rollout-aborted`);
    await waitFor("open", () => s.streams.size === 1);
    s.log.add("node-connected", "node n1", "n1 connected");
    s.log.add("rollout-aborted", "operator", "aborted");
    s.log.add("published", "config", "published");
    s.log.add("rollback", "health", "rolled back");
    await waitFor("two events", () => ids(got.text()).length === 2);
    expect(ids(got.text())).toEqual([2, 4]);
  });

  it("refuses one stream over maxClients with a 503, and takes one again after a stream closes", async () => {
    const s = await setup({ maxClients: 2 });
    await follow(`${s.base}/v1/events/stream`);
    await follow(`${s.base}/v1/events/stream`);
    await waitFor("two open", () => s.streams.size === 2);
    const third = await follow(`${s.base}/v1/events/stream`);
    expect(third.status).toBe(503);
    expect(JSON.parse(third.text()).error).toMatch(/too many event streams open \(2\); poll GET \/v1\/events\?after=N/);
    aborts[0]!.abort();
    await waitFor("one closed", () => s.streams.size === 1);
    expect((await follow(`${s.base}/v1/events/stream`)).status).toBe(200);
    expect((await fetch(`${s.base}/v1/events/stream?after=-1`)).status).toBe(400);
  });

  it("cuts a client that does not read once maxBufferedBytes wait for it", async () => {
    const s = await setup({ maxBufferedBytes: 16 * 1024 });
    const socket = connect(s.port, "127.0.0.1");
    let closed = false;
    socket.on("error", () => undefined);
    socket.on("close", () => {
      closed = true;
    });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write("GET /v1/events/stream HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    // Never read: the kernel's buffers fill, then the server's.
    socket.pause();
    await waitFor("open", () => s.streams.size === 1);
    const big = "x".repeat(4000);
    for (let i = 0; i < 4000 && s.streams.size > 0; i++) {
      s.log.add("nack", "node n1", big);
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor("cut", () => s.streams.size === 0, 10_000);
    // Reading again, the client finds its connection closed by the server.
    socket.resume();
    await waitFor("socket closed", () => closed, 5000);
    socket.destroy();
  });

  it("writes a keep-alive comment every keepAliveMs of the injected clock", async () => {
    const s = await setup();
    const got = await follow(`${s.base}/v1/events/stream`);
    await waitFor("open", () => s.streams.size === 1);
    expect(got.text()).not.toContain(": keep-alive");
    s.clock.advance(15_000);
    await waitFor("keep-alive", () => got.text().includes(": keep-alive\n\n"));
  });
});
