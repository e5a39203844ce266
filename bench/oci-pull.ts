/**
 * What an oci:// module costs the control plane (docs/OCI.md), against a
 * real registry on loopback (Debian's docker-registry, started here):
 *
 *   node --import tsx bench/oci-pull.ts [--runs 9] [--mib 8]
 *
 * Per shape and size, the median of `runs` of: a cold pull (manifest + layer
 * + extraction + digest checks + store), an Always re-resolution of a tag
 * that did not move (one HEAD), and an IfNotPresent resolution from the pull
 * index (no network).
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { ModuleStore } from "../src/wasm/module-store";
import { OciResolver, type OciSource } from "../src/wasm/oci";
import { type Image, registryAvailable, SKIP_REASON, startRegistry, tarImage, wasmArtifact } from "../test/helpers/oci-registry";
import { fixture, variant } from "../test/helpers/wasm-bytes";

const { values } = parseArgs({ options: { runs: { type: "string", default: "9" }, mib: { type: "string", default: "8" } } });
const runs = Number(values.runs);
if (!registryAvailable) {
  console.error(`bench/oci-pull.ts: ${SKIP_REASON}`);
  process.exit(1);
}

const small = fixture("good_http");
// A valid module padded with a custom section to the size asked for (random hex: gzip halves it, no more).
const big = variant(small, randomBytes(Number(values.mib) * 512 * 1024).toString("hex"));

async function median(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

const registry = await startRegistry();
const policy = { allowPrivateFetch: true };
const rows: string[][] = [["shape", "module", "cold pull ms", "Always, unmoved ms", "IfNotPresent, cached ms"]];
try {
  const cases: Array<[string, Buffer, (m: Buffer) => Image | Promise<Image>]> = [
    ["wasm artifact", small, (m) => wasmArtifact(m)],
    ["wasm artifact", big, (m) => wasmArtifact(m)],
    ["docker image, tar.gz", small, (m) => tarImage({ "plugin.wasm": m })],
    ["docker image, tar.gz", big, (m) => tarImage({ "plugin.wasm": m })],
  ];
  for (const [i, [shape, module, make]] of cases.entries()) {
    const repo = `bench/c${i}`;
    await registry.push(repo, await make(module), "v1");
    const source = (pullPolicy: OciSource["pullPolicy"]): OciSource => ({ reference: `oci://${registry.host}/${repo}:v1`, pullPolicy, insecure: true });
    const cold = await median(async () => (await OciResolver.open({ store: new ModuleStore() })).resolve(source("IfNotPresent"), policy));
    const warm = await OciResolver.open({ store: new ModuleStore() });
    await warm.resolve(source("Always"), policy);
    const head = await median(() => warm.resolve(source("Always"), policy));
    const cached = await median(() => warm.resolve(source("IfNotPresent"), policy));
    rows.push([shape, `${(module.length / 1024).toFixed(0)} KiB`, cold.toFixed(1), head.toFixed(1), cached.toFixed(3)]);
  }
} finally {
  await registry.stop();
}
const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  "));
