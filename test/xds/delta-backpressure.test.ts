/**
 * Backpressure on a delta stream, as on a state-of-the-world one
 * (stream-base.ts): a client that does not read is written at most about
 * maxBufferedBytes, gets the newest version of what it holds when it reads
 * again (never an older one after a newer), and is closed with
 * RESOURCE_EXHAUSTED when it stays blocked for blockedTimeoutMs.
 */
import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import type { DeltaDiscoveryResponse__Output } from "../../src/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse";
import { memoryLogger } from "../../src/logger";
import { decodeMessage, encodeMessage } from "../../src/proto/registry";
import { FakeClock } from "../../src/time/fake-clock";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { DELTA_ADS_PATH } from "../helpers/delta-client";
import { basicInput, extensionConfig } from "../helpers/snapshots";
import { type Harness, startHarness } from "../helpers/xds-harness";

const ECDS = TYPE_URLS.extensionConfig;
const CAP = 1024 * 1024;
const TIMEOUT = 60_000;

class SlowDeltaClient {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  readonly received: DeltaDiscoveryResponse__Output[] = [];
  readonly status: Promise<grpc.StatusObject>;

  constructor(port: number, id: string) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    this.call = this.client.makeBidiStreamRequest(DELTA_ADS_PATH, (b: Buffer) => b, (b: Buffer) => b);
    this.call.on("data", (bytes: Buffer) => this.received.push(decodeMessage<DeltaDiscoveryResponse__Output>("envoy.service.discovery.v3.DeltaDiscoveryResponse", bytes)));
    this.call.on("error", () => {});
    this.status = new Promise((resolve) => this.call.on("status", resolve));
    this.call.pause();
    this.call.write(encodeMessage("envoy.service.discovery.v3.DeltaDiscoveryRequest", { node: { id }, type_url: ECDS, resource_names_subscribe: ["f1"] }));
  }

  resume(): void {
    this.call.resume();
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

let clock: FakeClock;
let h: Harness;
const cleanup: Array<() => void> = [];
beforeEach(async () => {
  clock = new FakeClock();
  h = await startHarness({ logger: memoryLogger("info"), clock, limits: { maxBufferedBytes: CAP, blockedTimeoutMs: TIMEOUT } });
});
afterEach(async () => {
  for (const c of cleanup.splice(0)) c();
  await h.close(100);
});

function publish(i: number): Snapshot {
  const snap = Snapshot.create({ ...basicInput(), [ECDS]: [extensionConfig("f1", `${i}:`.padEnd(250_000, "w"))] });
  h.cache.setDefaultSnapshot(snap);
  return snap;
}
const stream = () => h.xds.streamStatuses().find((s) => s.node?.id === "slow");

describe("a delta client that does not read", () => {
  it("is written a bounded amount, then the newest version when it reads again", async () => {
    publish(0);
    const slow = new SlowDeltaClient(h.port, "slow");
    cleanup.push(() => slow.close());
    await expect.poll(() => stream()?.types[0]?.sent).toBeTruthy();
    let pushes = 0;
    h.xds.events.on((e) => {
      if (e.kind === "push" && e.node.id === "slow") pushes++;
    });
    const versions: string[] = [];
    for (let i = 1; i <= 60; i++) {
      versions.push(publish(i).resource(ECDS, "f1")!.version);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(pushes).toBeLessThan(30);
    expect(stream()?.blockedSince).toBeDefined();
    slow.resume();
    await expect.poll(() => slow.received.at(-1)?.resources[0]?.version, { timeout: 10_000 }).toBe(versions.at(-1));
    const order = slow.received.slice(1).map((r) => versions.indexOf(r.resources[0]?.version ?? ""));
    expect(order.every((v, i) => i === 0 || v > (order[i - 1] as number))).toBe(true);
    expect(new Set(slow.received.map((r) => r.nonce)).size).toBe(slow.received.length);
  });

  it("is closed with RESOURCE_EXHAUSTED after blockedTimeoutMs", async () => {
    publish(0);
    const slow = new SlowDeltaClient(h.port, "slow");
    cleanup.push(() => slow.close());
    await expect.poll(() => stream()?.types[0]?.sent).toBeTruthy();
    for (let i = 1; i <= 40 && stream()?.blockedSince === undefined; i++) {
      publish(i);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(stream()?.blockedSince).toBeDefined();
    clock.advance(TIMEOUT);
    await expect.poll(() => stream()).toBeUndefined();
    slow.resume();
    expect(await slow.status).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
  });
});
