/**
 * An ACK is not always evidence (issue 12 point 2; docs/ENVOY.md, "ECDS hash
 * skip"): Envoy skips an ECDS config identical to the last one it received,
 * even one it NACKed, and ACKs the response while the old filter keeps
 * serving. Here the canary NACKs the candidate of a rollout; then another
 * filter's config changes, and the ECDS response that carries it also
 * carries the candidate, unchanged: the canary ACKs it without loading the
 * candidate. Regression: that ACK counted towards minAcked, so the bake
 * started and the rollout promoted (and at the end marked known-good) a
 * version no node ever ran.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { FakeClock, SimFleet } from "../../src/sim";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { sha256Hex } from "../../src/vocabulary/sha256";
import type { XdsEvent } from "../../src/xds/events";
import { startTestApp } from "../helpers/app";
import { fixture, variant } from "../helpers/wasm-bytes";
import { waitFor } from "../helpers/wait";
import { XDS_APIS } from "../helpers/xds-apis";

function yaml(guardConfiguration: string, tagValue: string): string {
  return `
filters:
  - name: guard
    kind: http
    module: modules/guard.wasm
    code: inline
    preflight: false
    configuration: ${guardConfiguration}
    health: { maxNacks: 100 }
    rollout:
      steps:
        - { nodes: 1, bake: 200ms }
        - { percent: 100 }
      gates: { maxNacks: 5, maxCrashes: 0, maxDisconnects: 2, minAcked: 1 }
  - name: tag
    kind: http
    module: modules/tag.wasm
    code: inline
    configuration: { value: ${tagValue} }
listeners:
  - name: ingress
    address: 127.0.0.1:10000
    http: { filters: [guard, tag], routes: [{ prefix: /, cluster: backend }] }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`;
}

describe.each(XDS_APIS)("an ACK of a version the node NACKed (%s xDS)", (xdsApi) => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;
  const clock = new FakeClock();
  const acks: XdsEvent[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wasmxds-ack-after-nack-"));
    await mkdir(join(dir, "modules"));
    await writeFile(join(dir, "modules/guard.wasm"), variant(fixture("good_http"), "v1"));
    await writeFile(join(dir, "modules/tag.wasm"), fixture("good_http"));
    await writeFile(join(dir, "wasmxds.yaml"), yaml("{}", "one"));
    app = await startTestApp(dir, { clock });
    app.xds.events.on((e) => {
      if (e.kind === "ack" && e.typeUrl === TYPE_URLS.extensionConfig) acks.push(e);
    });
    fleet = new SimFleet({ nodes: 2, idPrefix: "n", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, xdsApi });
    await fleet.start();
    await waitFor("fleet LIVE", () => fleet.summary().live === 2, 10_000);
  });

  afterAll(async () => {
    await fleet?.stop();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("never counts towards minAcked, the bake or promotion", async () => {
    const bad = variant(fixture("configure_false"), "v2");
    await writeFile(join(dir, "modules/guard.wasm"), bad);
    await writeFile(join(dir, "wasmxds.yaml"), yaml('{"ok":false}', "one"));
    expect((await app.reload()).ok).toBe(true);
    // The first tick picks the canary (nodes: 1) and regroups it.
    app.rollouts.tick();
    await waitFor("the canary NACKs the candidate", () => app.xds.nacks().length > 0, 10_000);
    const canary = app.xds.nacks()[0]!.nodeId;
    expect(app.xds.nacks()[0]!.message).toContain(`Unable to create Wasm plugin guard@${sha256Hex(bad).slice(0, 8)}`);

    // Another filter changes: the canary's next ECDS response carries the candidate again, unchanged.
    const before = acks.filter((e) => e.kind === "ack" && e.node.id === canary).length;
    const reloads = () => fleet.nodes.find((n) => n.id === canary)!.stats.get("extension_config_discovery.http_filter.guard.config_reload");
    const reloadsBefore = reloads();
    await writeFile(join(dir, "wasmxds.yaml"), yaml('{"ok":false}', "two"));
    expect((await app.reload()).ok).toBe(true);
    await waitFor("the canary ACKs the response", () => acks.filter((e) => e.kind === "ack" && e.node.id === canary).length > before, 10_000);
    const node = fleet.nodes.find((n) => n.id === canary)!;
    // Not reloaded: SotW's copy is skipped by the hash; delta does not carry it (nor may the simulator re-apply it).
    expect(reloads()).toBe(reloadsBefore);
    // Hash skip: the old guard still serves, the new tag config loaded.
    expect(node.plugins().map((p) => p.name).sort()).toEqual([`guard@${sha256Hex(variant(fixture("good_http"), "v1")).slice(0, 8)}`, `tag@${sha256Hex(fixture("good_http")).slice(0, 8)}`]);

    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      app.rollouts.tick();
    }
    expect(app.rollouts.rollouts("guard").history.map((h) => h.outcome)).toEqual([]);
    expect(app.rollouts.gateValues("guard")).toMatchObject({ nacks: 1, acked: 0 });
    const active = app.rollouts.rollouts("guard").active;
    expect(active).toMatchObject({ step: 0, bakeStartedAt: null });
    const candidate = app.monitor.versionsOf("guard").find((v) => v.sha256 === sha256Hex(bad))!;
    expect(candidate.acked.has(canary)).toBe(false);
    // State of the world re-sends the NACKed candidate beside tag, and that ACK is discounted; delta sends tag alone, so no such ACK comes.
    if (xdsApi === "sotw") expect(app.monitor.ackAfterNack).toBeGreaterThan(0);
    else expect(app.monitor.ackAfterNack).toBe(0);
    expect(app.versions.lastGood("guard")?.sha256).not.toBe(sha256Hex(bad));
  });
});
