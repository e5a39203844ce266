/** A folder with one rolled-out HTTP filter, a wasmxds around it and a simulated fleet with clusters and metadata. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningWasmxds } from "../../src/main";
import { startTestApp } from "../helpers/app";
import { SimFleet, type SimFleetOptions, type SimNode } from "../../src/sim";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { fixture, variant } from "../helpers/wasm-bytes";
import { waitFor } from "../sim/helpers/wait";

export function rolloutYaml(o: { configuration?: string; steps: string; gates?: string; onNewVersion?: string }): string {
  return `
filters:
  - name: guard
    kind: http
    module: modules/guard.wasm
    rootId: ""
    code: inline
    failurePolicy: FAIL_RELOAD
    reloadBackoff: { base: 10ms }
    preflight: false
    configuration: ${o.configuration ?? "{}"}
    selector: { cluster: edge }
    health: { maxNacks: 100, maxCrashes: 100 }
    rollout:
      steps:
${o.steps}
      gates: ${o.gates ?? "{ maxNacks: 0, maxCrashes: 0, maxDisconnects: 2, minAcked: 1 }"}
      onNewVersion: ${o.onNewVersion ?? "supersede"}
listeners:
  - name: ingress
    address: 127.0.0.1:10000
    http: { filters: [guard], routes: [{ prefix: /, cluster: backend }] }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`;
}

export const FAST_STEPS = `        - { nodes: 1, bake: 200ms }
        - { percent: 25, bake: 200ms }
        - { selector: { metadata: { ring: canary } }, bake: 200ms }
        - { percent: 100 }`;

/** Writes guard.wasm (good_http, tagged so each version has its own sha256) and the YAML; returns the sha256. */
export async function writeVersion(dir: string, tag: string, yaml: string, module = "good_http"): Promise<string> {
  const bytes = tag ? variant(fixture(module), tag) : fixture(module);
  await writeFile(join(dir, "modules/guard.wasm"), bytes);
  await writeFile(join(dir, "wasmxds.yaml"), yaml);
  return sha256Hex(bytes);
}

export async function makeFolder(yaml: string): Promise<{ dir: string; v1: string }> {
  const dir = await mkdtemp(join(tmpdir(), "wasmxds-rollout-"));
  await mkdir(join(dir, "modules"));
  const v1 = await writeVersion(dir, "v1", yaml);
  return { dir, v1 };
}

export const startApp = startTestApp;

/** 20 nodes: n0..n15 in cluster edge (n3 and n7 with ring=canary), n16..n19 in cluster core. */
export async function startFleet(port: number, nodes = 20, extra: Partial<SimFleetOptions> = {}): Promise<SimFleet> {
  const fleet = new SimFleet({
    nodes,
    idPrefix: "n",
    xdsAddress: `127.0.0.1:${port}`,
    perNode: (i) => ({ cluster: i < 16 ? "edge" : "core", metadata: { ring: i === 3 || i === 7 ? "canary" : "main" } }),
    ...extra,
  });
  await fleet.start();
  await waitFor("fleet LIVE", () => fleet.summary().live === nodes, 15_000);
  return fleet;
}

/** The guard module each node runs (undefined: not running the filter). */
export function runningGuard(n: SimNode): string | undefined {
  return n.plugins().find((p) => p.name.startsWith("guard@"))?.runningCodeSha256;
}

export async function cleanup(fleet: SimFleet | undefined, app: RunningWasmxds | undefined, dir: string | undefined): Promise<void> {
  await fleet?.stop();
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}
