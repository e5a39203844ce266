/**
 * Issue 11, item 7 (xDS half): 20,000 NACKs repeating one nonce were each
 * recorded (and logged). A NACK is now recorded once per nonce per stream,
 * and the rejected version is still never sent again.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { basicInput } from "../helpers/snapshots";
import { type Harness, startHarness } from "../helpers/xds-harness";

const ECDS = TYPE_URLS.extensionConfig;
let h: Harness;
let c: AdsClient;
beforeEach(async () => {
  h = await startHarness();
  h.cache.setDefaultSnapshot(Snapshot.create(basicInput()));
  c = new AdsClient(h.port, { id: "stormy" });
});
afterEach(async () => {
  c.cancel();
  await h.close();
});

describe("a NACK storm", () => {
  it("20,000 NACKs of one nonce are one NACK event, a handful of warning lines, and no resend", async () => {
    let events = 0;
    h.xds.events.on((e) => {
      if (e.kind === "nack") events++;
    });
    c.request({ typeUrl: ECDS, names: ["f1"] });
    const first = await c.next(ECDS);
    for (let i = 0; i < 20_000; i++) c.nack(first, "", `rejected ${i}`, ["f1"]);
    // A request after the storm, answered only once every NACK before it was handled.
    c.request({ typeUrl: TYPE_URLS.cluster });
    await c.next(TYPE_URLS.cluster, 20_000);
    expect(h.xds.nacks()).toHaveLength(1);
    expect(h.xds.nacks()[0]).toMatchObject({ nodeId: "stormy", nonce: first.nonce, message: "rejected 0" });
    await expect.poll(() => events).toBe(1);
    expect((await c.drain(100)).filter((r) => r.type_url === ECDS)).toEqual([]);
    expect(h.logger.records.filter((r) => r.msg === "NACK").length).toBe(1);

    // A new version is sent, and its NACK is a new one.
    h.cache.setDefaultSnapshot(Snapshot.create(basicInput({ header: "x-two" })));
    const second = await c.next(ECDS);
    expect(second.version_info).not.toBe(first.version_info);
    c.nack(second, "", "rejected again", ["f1"]);
    c.nack(second, "", "rejected again", ["f1"]);
    await expect.poll(() => h.xds.nacks().length).toBe(2);
    expect((await c.drain(200)).filter((r) => r.type_url === ECDS)).toEqual([]);
    expect(events).toBe(2);
  }, 60_000);

  it("keeps at most 4096 characters of an error_detail message", async () => {
    c.request({ typeUrl: ECDS, names: ["f1"] });
    const first = await c.next(ECDS);
    c.nack(first, "", "e".repeat(1_000_000), ["f1"]);
    await expect.poll(() => h.xds.nacks().length).toBe(1);
    const message = h.xds.nacks()[0]!.message;
    expect(message.length).toBeLessThan(4200);
    expect(message).toMatch(/… \(995904 more characters\)$/);
  });
});
