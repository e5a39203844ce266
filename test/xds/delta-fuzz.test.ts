/**
 * Hostile input on delta streams (seeded fast-check): random sequences of
 * DeltaDiscoveryRequests (odd and huge names, "*" subscribed and
 * unsubscribed, initial_resource_versions, stale, unknown and oversized
 * nonces, NACKs, unserved types) while snapshots change. After each run: no
 * request raised an internal error, every response kept the protocol's
 * promises (no name both sent and removed, no removal of a name the client
 * was never sent nor declared, nonces never repeated on the stream), and a
 * fresh client is still served. Reproduce with FUZZ_SEED; widen with FUZZ_RUNS.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { DeltaClient } from "../helpers/delta-client";
import { basicInput, extensionConfig, listener } from "../helpers/snapshots";
import { type Harness, startHarness } from "../helpers/xds-harness";

const T = TYPE_URLS;
const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const TYPES = [...(Object.values(T) as string[]), "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"];
const NAMES = ["backend", "ingress", "f1", "f2", "*", "ghost"];

const name = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 1, arbitrary: fc.nat({ max: 6000 }).map((n) => "x".repeat(n)) });
const step = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("request" as const),
      typeUrl: fc.constantFrom(...TYPES),
      subscribe: fc.array(name, { maxLength: 6 }),
      unsubscribe: fc.array(name, { maxLength: 4 }),
      initial: fc.dictionary(fc.constantFrom(...NAMES), fc.oneof(fc.constant("0000"), fc.string({ maxLength: 20 })), { maxKeys: 3 }),
      nonce: fc.oneof(fc.constant("last"), fc.constant(""), fc.string({ maxLength: 8 })),
      nack: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("publish" as const), header: fc.constantFrom("a", "b", "c"), withF2: fc.boolean() }) },
);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ limits: { maxResourceNames: 50, maxNameLength: 5000 } });
});
afterAll(async () => {
  await h.close();
});

function publish(header: string, withF2: boolean): void {
  const filters = withF2 ? [extensionConfig("f1", header), extensionConfig("f2", header)] : [extensionConfig("f1", header)];
  h.cache.setDefaultSnapshot(Snapshot.create({ ...basicInput(), [T.extensionConfig]: filters, [T.listener]: [listener("ingress", 10000, "ingress", filters.map((f) => f.name))] }));
}

describe("delta streams under random requests", () => {
  it("keep the protocol's promises and never break the server", async () => {
    publish("a", true);
    let run = 0;
    let responses = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const c = new DeltaClient(h.port, { id: `fuzz-${run++}` });
        const sent = new Map<string, Set<string>>();
        const nonces = new Set<string>();
        let lastNonce = "";
        const seen: Array<{ type_url: string; nonce: string; resources: Array<{ name: string }>; removed_resources: string[] }> = [];
        try {
          for (const s of steps) {
            if (s.kind === "publish") {
              publish(s.header, s.withF2);
            } else {
              const declared = sent.get(s.typeUrl) ?? new Set<string>();
              for (const n of Object.keys(s.initial)) declared.add(n);
              sent.set(s.typeUrl, declared);
              c.request({
                typeUrl: s.typeUrl,
                subscribe: s.subscribe,
                unsubscribe: s.unsubscribe,
                initialVersions: s.initial,
                responseNonce: s.nonce === "last" ? lastNonce : s.nonce,
                ...(s.nack && { error: { code: 13, message: "fuzz" } }),
              });
            }
            for (const r of await c.drain(15)) {
              seen.push(r);
              responses++;
              lastNonce = r.nonce;
              const held = sent.get(r.type_url) ?? new Set<string>();
              const names = r.resources.map((x) => x.name);
              expect(names.filter((n) => r.removed_resources.includes(n))).toEqual([]);
              expect(r.removed_resources.filter((n) => !held.has(n))).toEqual([]);
              for (const n of names) held.add(n);
              sent.set(r.type_url, held);
              expect(nonces.has(r.nonce)).toBe(false);
              nonces.add(r.nonce);
            }
          }
        } finally {
          c.cancel();
        }
        expect(h.logger.records.filter((r) => r.msg === "error handling DiscoveryRequest")).toEqual([]);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The runs were served, not all refused at their first request.
    expect(responses).toBeGreaterThan(RUNS);
    const fresh = new DeltaClient(h.port, { id: "after-fuzz" });
    try {
      fresh.request({ typeUrl: T.cluster });
      expect((await fresh.next(T.cluster)).resources.map((r) => r.name)).toEqual(["backend"]);
    } finally {
      fresh.cancel();
    }
  }, 120_000);
});
