/**
 * Issue 11, item 5: streams that never read while new versions were pushed
 * grew the server's memory (RSS +30 MB per 100 pushes of a 250 KB module,
 * never given back). The stream now stops writing above maxBufferedBytes,
 * sends the newest version when the client drains, and closes a stream
 * blocked longer than blockedTimeoutMs with RESOURCE_EXHAUSTED.
 */
import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import type { SnapshotCache } from "../../src/cache/snapshot-cache";
import type { DiscoveryResponse__Output } from "../../src/generated/envoy/service/discovery/v3/DiscoveryResponse";
import { memoryLogger } from "../../src/logger";
import { decodeMessage, encodeMessage } from "../../src/proto/registry";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { FakeClock } from "../../src/time/fake-clock";
import { RESET_AFTER_FAIL_MS } from "../../src/xds/xds-server";
import type { XdsStreams } from "../../src/xds/xds-streams";
import { AdsClient } from "../helpers/ads-client";
import { basicInput, extensionConfig } from "../helpers/snapshots";
import { type Harness, startHarness } from "../helpers/xds-harness";

const ECDS = TYPE_URLS.extensionConfig;
const ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
const MiB = 1024 * 1024;
const CAP = 1 * MiB;
const TIMEOUT = 60_000;

/** A raw ADS client that subscribes to ECDS and then does not read, until resume(). */
class SlowClient {
  private readonly client: grpc.Client;
  readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  readonly received: DiscoveryResponse__Output[] = [];
  readonly status: Promise<grpc.StatusObject>;

  constructor(port: number, id: string) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    this.call = this.client.makeBidiStreamRequest(ADS_PATH, (b: Buffer) => b, (b: Buffer) => b);
    this.call.on("data", (bytes: Buffer) => {
      this.received.push(decodeMessage<DiscoveryResponse__Output>("envoy.service.discovery.v3.DiscoveryResponse", bytes));
    });
    this.call.on("error", () => {});
    this.status = new Promise((resolve) => this.call.on("status", resolve));
    this.call.pause();
    this.call.write(encodeMessage("envoy.service.discovery.v3.DiscoveryRequest", { node: { id }, type_url: ECDS, resource_names: ["f1"] }));
  }

  resume(): void {
    this.call.resume();
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

const bigModule = (i: number) => `${i}:`.padEnd(250_000, "w");

let clock: FakeClock;
let h: Harness;
let cache: SnapshotCache;
let xds: XdsStreams;
let logger: ReturnType<typeof memoryLogger>;
const cleanup: Array<() => void> = [];

beforeEach(async () => {
  clock = new FakeClock();
  logger = memoryLogger("info");
  h = await startHarness({ logger, clock, limits: { maxBufferedBytes: CAP, blockedTimeoutMs: TIMEOUT } });
  ({ cache, xds } = h);
});
afterEach(async () => {
  for (const c of cleanup.splice(0)) c();
  await h.close(100);
});

function publish(i: number): void {
  const input = basicInput();
  cache.setDefaultSnapshot(Snapshot.create({ ...input, [ECDS]: [extensionConfig("f1", bigModule(i))] }));
}

const slowStream = (id: string) => xds.streamStatuses().find((s) => s.node?.id === id);

describe("a client that does not read", () => {
  it("is written at most the cap while 100 versions of a 250 KB module go out; an honest client gets all 100; the slow one then gets the newest only", async () => {
    publish(0);
    const honest = new AdsClient(h.port, { id: "honest" });
    cleanup.push(() => honest.cancel());
    honest.request({ typeUrl: ECDS, names: ["f1"] });
    let last = await honest.next(ECDS);
    honest.ack(last, ["f1"]);
    const versions = [last.version_info];

    const slow = new SlowClient(h.port, "slow");
    cleanup.push(() => slow.close());
    await expect.poll(() => slowStream("slow")?.types[0]?.sent).toBeTruthy();
    let slowPushes = 0;
    xds.events.on((e) => {
      if (e.kind === "push" && e.node.id === "slow") slowPushes++;
    });

    for (let i = 1; i <= 100; i++) {
      publish(i);
      last = await honest.next(ECDS, 10_000);
      honest.ack(last, ["f1"]);
      versions.push(last.version_info);
    }
    expect(new Set(versions).size).toBe(101);
    expect(xds.streamStatuses()).toHaveLength(2);
    // Written until the connection stopped taking bytes (socket and client buffers, a few MiB), then the cap; not 100 x 250 KB.
    expect(slowPushes).toBeLessThan(30);
    expect(slowStream("slow")?.blockedSince).toBeDefined();

    // The slow client reads at last: what was buffered, then the newest version, never an older one after a newer.
    slow.resume();
    await expect.poll(() => slow.received.at(-1)?.version_info, { timeout: 10_000 }).toBe(versions.at(-1));
    const order = slow.received.map((r) => versions.indexOf(r.version_info));
    expect(order.every((v, i) => i === 0 || v > (order[i - 1] as number))).toBe(true);
    expect(slow.received.length).toBeLessThan(40);
    expect(new Set(slow.received.map((r) => r.nonce)).size).toBe(slow.received.length);
    expect(slowStream("slow")?.blockedSince).toBeUndefined();
  }, 60_000);

  it("is closed with RESOURCE_EXHAUSTED naming the limit after blockedTimeoutMs, and reset if it still does not read", async () => {
    publish(0);
    const slow = new SlowClient(h.port, "slow");
    cleanup.push(() => slow.close());
    await expect.poll(() => slowStream("slow")?.types[0]?.sent).toBeTruthy();
    for (let i = 1; i <= 40 && slowStream("slow")?.blockedSince === undefined; i++) {
      publish(i);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(slowStream("slow")?.blockedSince).toBeDefined();
    clock.advance(TIMEOUT - 1);
    expect(slowStream("slow")).toBeDefined();
    clock.advance(1);
    expect(slowStream("slow")).toBeUndefined();
    const line = logger.records.find((r) => r.msg === "closing a stream that does not read its responses");
    expect(line?.fields.details).toMatch(/over the limit of 1048576 bytes \(maxBufferedBytes, blockedTimeoutMs\)/);
    // Its status waits behind data it does not read; then the HTTP/2 stream is reset, freeing that data.
    clock.advance(RESET_AFTER_FAIL_MS);
    slow.resume();
    const status = await slow.status;
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    // grpc-js's words for RST_STREAM ENHANCE_YOUR_CALM: the reset (net/grpc-call-reset.ts) reached the HTTP/2 stream.
    expect(status.details).toMatch(/Bandwidth exhausted/);
  }, 60_000);

  it("a client that reads late, before the reset, gets the status that names the limit", async () => {
    publish(0);
    const slow = new SlowClient(h.port, "slow");
    cleanup.push(() => slow.close());
    await expect.poll(() => slowStream("slow")?.types[0]?.sent).toBeTruthy();
    for (let i = 1; i <= 40 && slowStream("slow")?.blockedSince === undefined; i++) {
      publish(i);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(slowStream("slow")?.blockedSince).toBeDefined();
    clock.advance(TIMEOUT);
    slow.resume();
    const status = await slow.status;
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/did not read its responses.*maxBufferedBytes/);
  }, 60_000);
});
