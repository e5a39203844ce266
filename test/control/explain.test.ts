/**
 * `GET /v1/nodes/<id>/explain` and `wasmxds explain`: for real nodes (raw
 * ADS clients on the xDS port), which version of each filter they receive
 * and why: base, selector, rollout step (nodes, selector, percent) and
 * rollout-stable, quarantine fallback, a NACK, a cache-miss re-push attempt.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import type { FilterExplanation, NodeExplanation } from "../../src/control/explain";
import type { RunningWasmxds } from "../../src/main";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient, type ClientNode } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";
import { testClock } from "../helpers/clock";
import { memoryTerminal } from "../helpers/terminal";
import { fixture, variant } from "../helpers/wasm-bytes";
import { waitFor } from "../helpers/wait";
import { removeFolder, rolloutYaml, tempConfigFolder, writeVersion } from "../helpers/config-folder";

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function filterYaml(name: string, extra = ""): string {
  return `  - name: ${name}
    kind: http
    module: modules/${name}.wasm
    rootId: ""
    failurePolicy: FAIL_RELOAD
    reloadBackoff: { base: 10ms }
    preflight: false
    health: { maxNacks: 100, maxCrashes: 100 }
${extra}`;
}

function yaml(filters: string[]): string {
  const names = filters.map((f) => /name: ([a-z-]+)/.exec(f)![1]);
  return `filters:
${filters.join("")}
listeners:
  - name: ingress
    address: 127.0.0.1:10000
    http: { filters: [${names.join(", ")}], routes: [{ prefix: /, cluster: backend }] }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`;
}

async function folder(files: Record<string, Uint8Array | string>): Promise<string> {
  const dir = await tempConfigFolder(files, "wasmxds-explain-");
  cleanup.push(() => removeFolder(dir));
  return dir;
}

async function start(dir: string): Promise<RunningWasmxds> {
  // A FakeClock nobody advances: rollouts move when the test ticks or promotes, never behind its back.
  const app = await startTestApp(dir, { clock: testClock() });
  cleanup.push(() => app.close(0));
  return app;
}

/** A node with an open ADS stream: it subscribes to every listener, so the server knows it. */
async function connect(app: RunningWasmxds, node: ClientNode): Promise<AdsClient> {
  const c = new AdsClient(app.xdsAddress.port, node);
  cleanup.push(() => c.close());
  c.request({ typeUrl: TYPE_URLS.listener });
  await c.next(TYPE_URLS.listener);
  return c;
}

async function explain(app: RunningWasmxds, id: string): Promise<NodeExplanation> {
  const res = await fetch(`http://127.0.0.1:${app.adminAddress!.port}/v1/nodes/${encodeURIComponent(id)}/explain`);
  expect(res.status).toBe(200);
  return (await res.json()) as NodeExplanation;
}

async function explainFilter(app: RunningWasmxds, id: string, filter: string): Promise<FilterExplanation> {
  const f = (await explain(app, id)).filters.find((x) => x.filter === filter);
  expect(f).toBeDefined();
  return f!;
}


describe("explain: what a node receives, and why", () => {
  it("base and selector: the folder's version for every node; no filter where the selector leaves the node out", async () => {
    const plain = variant(fixture("good_http"), "plain");
    const dir = await folder({
      "modules/plain.wasm": plain,
      "modules/edge-only.wasm": variant(fixture("good_http"), "edge"),
      "wasmxds.yaml": yaml([filterYaml("plain"), filterYaml("edge-only", "    selector: { cluster: edge }\n")]),
    });
    const app = await start(dir);
    await connect(app, { id: "core-1", cluster: "core" });

    const e = await explain(app, "core-1");
    expect(e.version).toBe(app.pipeline.published!.snapshot.version);
    expect(e.group).toBe("edge-only=-");
    const [p, edge] = [e.filters.find((f) => f.filter === "plain")!, e.filters.find((f) => f.filter === "edge-only")!];
    expect(p.receives?.sha256).toBe(app.pipeline.published!.served.get("plain")!.module.sha256);
    expect(p.reasons.map((r) => r.kind)).toEqual(["base"]);
    expect(edge.receives).toBeNull();
    expect(edge.reasons).toMatchObject([{ kind: "selector", selector: "cluster=edge" }]);

    // The CLI command asks the same route.
    const term = memoryTerminal();
    expect(await main(["explain", "core-1", "--admin-address", `127.0.0.1:${app.adminAddress!.port}`], term)).toBe(0);
    expect(term.text().out).toContain("edge-only: no filter");
    expect(term.text().out).toContain("selector the filter's selector (cluster=edge) does not match this node");
    // An unknown node is a 404 naming it, and the CLI says so.
    expect((await fetch(`http://127.0.0.1:${app.adminAddress!.port}/v1/nodes/nobody/explain`)).status).toBe(404);
    const bad = memoryTerminal();
    // The admin client reports an HTTP error as a usage error (exit 2), as for `status` and `rollout`.
    expect(await main(["explain", "nobody", "--admin-address", `127.0.0.1:${app.adminAddress!.port}`], bad)).toBe(2);
    expect(bad.text().err).toContain('no node "nobody" is connected');
  });

  it("rollout steps: membership by nodes, selector and percent; nodes outside run the stable version", async () => {
    const steps = `        - { nodes: 1, bake: 1h }
        - { selector: { metadata: { ring: canary } }, bake: 1h }
        - { percent: 100, bake: 1h }`;
    const dir = await folder({ "wasmxds.yaml": "" });
    const v1 = await writeVersion(dir, "v1", rolloutYaml({ steps }));
    const app = await start(dir);
    await connect(app, { id: "edge-a", cluster: "edge" });
    await connect(app, { id: "edge-b", cluster: "edge" });
    await connect(app, { id: "edge-c", cluster: "edge", metadata: { ring: "canary" } });
    const v2 = await writeVersion(dir, "v2", rolloutYaml({ steps }));
    expect((await app.reload()).ok).toBe(true);
    expect(app.rollouts.rollouts("guard").active?.candidate.sha256).toBe(v2);
    // The controller picks the `nodes: 1` step's node on its own tick.
    app.rollouts.tick();
    await waitFor("one node picked", () => (app.rollouts.rollouts("guard").active?.picks["0"]?.length ?? 0) === 1);
    const picked = app.rollouts.rollouts("guard").active!.picks["0"]![0]!;
    const others = ["edge-a", "edge-b", "edge-c"].filter((id) => id !== picked);

    const inStep1 = await explainFilter(app, picked, "guard");
    expect(inStep1.receives?.sha256).toBe(v2);
    expect(inStep1.reasons).toMatchObject([{ kind: "rollout", step: 1, currentStep: 1, steps: 3, by: "nodes" }]);
    for (const id of others) {
      const out = await explainFilter(app, id, "guard");
      expect(out.receives?.sha256).toBe(v1);
      expect(out.reasons).toMatchObject([{ kind: "rollout-stable", candidate: v2 }]);
    }

    app.rollouts.promote("guard", "test");
    await waitFor("step 2", () => app.rollouts.rollouts("guard").active?.step === 1);
    if (picked !== "edge-c") {
      const bySelector = await explainFilter(app, "edge-c", "guard");
      expect(bySelector.receives?.sha256).toBe(v2);
      expect(bySelector.reasons).toMatchObject([{ kind: "rollout", step: 2, currentStep: 2, by: "selector" }]);
    }

    app.rollouts.promote("guard", "test");
    await waitFor("step 3", () => app.rollouts.rollouts("guard").active?.step === 2);
    const last = others.find((id) => id !== "edge-c")!;
    const byPercent = await explainFilter(app, last, "guard");
    expect(byPercent.receives?.sha256).toBe(v2);
    expect(byPercent.reasons).toMatchObject([{ kind: "rollout", step: 3, currentStep: 3, by: "percent" }]);
  });

  it("quarantine fallback: the folder's version is quarantined, the last known-good one is served, and both are named", async () => {
    const v1 = variant(fixture("good_http"), "q1");
    const dir = await folder({ "modules/plain.wasm": v1, "wasmxds.yaml": yaml([filterYaml("plain")]) });
    const app = await start(dir);
    await connect(app, { id: "n1" });
    const good = app.pipeline.published!.served.get("plain")!;
    await writeFile(join(dir, "modules/plain.wasm"), variant(fixture("good_http"), "q2"));
    expect((await app.reload()).ok).toBe(true);
    const bad = app.pipeline.published!.served.get("plain")!;
    expect(bad.key).not.toBe(good.key);
    await app.versions.quarantine("plain", { sha256: bad.module.sha256, key: bad.key, reason: "test", at: new Date().toISOString(), nodes: [], signals: [] }).catch(() => {});
    expect((await app.reload()).ok).toBe(true);

    const f = await explainFilter(app, "n1", "plain");
    expect(f.receives?.sha256).toBe(good.module.sha256);
    expect(f.reasons).toMatchObject([{ kind: "quarantine-fallback", quarantined: bad.module.sha256, serving: good.module.sha256, how: "fallback" }]);
  });

  it("a NACK: the node rejected the response carrying the filter, so Envoy keeps its previous config", async () => {
    const dir = await folder({ "modules/plain.wasm": variant(fixture("good_http"), "n1"), "wasmxds.yaml": yaml([filterYaml("plain")]) });
    const app = await start(dir);
    const c = await connect(app, { id: "nacker" });
    c.request({ typeUrl: TYPE_URLS.extensionConfig, names: ["plain"] });
    const ecds = await c.next(TYPE_URLS.extensionConfig);
    c.nack(ecds, "", "Unable to create Wasm plugin plain: test failure", ["plain"]);
    await waitFor("NACK recorded", () => app.xds.nacks({ nodeId: "nacker" }).length === 1);

    const f = await explainFilter(app, "nacker", "plain");
    expect(f.reasons.map((r) => r.kind)).toEqual(["base", "nack"]);
    expect(f.reasons[1]).toMatchObject({ kind: "nack", typeUrl: TYPE_URLS.extensionConfig, rejectedVersion: ecds.version_info, message: "Unable to create Wasm plugin plain: test failure" });
  });

  it("a re-push attempt: remote code over ECDS NACKed as a cache miss and fetched is pushed again with ?repush=1", async () => {
    const bytes = variant(fixture("good_http"), "remote");
    const dir = await folder({ "modules/plain.wasm": bytes, "wasmxds.yaml": yaml([filterYaml("plain", "    code: remote\n    discovery: ecds\n")]) });
    const app = await start(dir);
    const c = await connect(app, { id: "fetcher" });
    c.request({ typeUrl: TYPE_URLS.extensionConfig, names: ["plain"] });
    const ecds = await c.next(TYPE_URLS.extensionConfig);
    c.nack(ecds, "", "Failed to load Wasm code (cache miss)", ["plain"]);
    await waitFor("miss recorded", () => app.cacheMisses.counts.misses === 1);
    // What Envoy does on a cache miss: fetch the module from the URI of the config.
    const sha = app.pipeline.published!.served.get("plain")!.module.sha256;
    const res = await fetch(`http://127.0.0.1:${app.modulesAddress.port}/modules/${sha}.wasm`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await waitFor("re-pushed", () => app.cacheMisses.attemptOf("fetcher", "plain") === 1);

    const e = await explain(app, "fetcher");
    expect(e.group).toBe("plain=r1");
    const f = e.filters.find((x) => x.filter === "plain")!;
    expect(f.receives?.sha256).toBe(sha);
    expect(f.reasons).toContainEqual(expect.objectContaining({ kind: "repush", attempt: 1 }));
  });
});
