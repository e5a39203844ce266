/**
 * What the health monitor's bookkeeping costs per node on a module swap
 * (issue 18: 12.5% self time of a profiled swap), without sockets or
 * streams: the real HealthMonitor and CacheMisses, wired as src/main.ts
 * wires them, take for each of N connected nodes the push of the new ECDS
 * version and its ACK, round after round (a new version each round). The
 * node-versions lookup builds a fresh map per call, as
 * ServingPipeline.nodeVersions does. `--code remote` makes the filter remote
 * code over ECDS, so every push and ACK also goes through the cache-miss
 * tracker.
 *
 *   node --expose-gc --import tsx bench/health-cost.ts [--nodes 10000] [--rounds 7] [--code remote,inline]
 *
 * Prints per code mode the median over rounds of the CPU per node for the
 * pushes and for the ACKs (µs), and the heap the monitor holds per node after
 * the rounds.
 */
import { parseArgs } from "node:util";
import { DEFAULT_HEALTH, type FilterConfig } from "../src/config/model";
import { type ServedFilter, settingsOf } from "../src/config/filter-version";
import { EventLog } from "../src/events/event-log";
import { CacheMisses } from "../src/health/cache-miss";
import { FilterVersions } from "../src/health/filter-versions";
import { HealthMonitor } from "../src/health/monitor";
import { StateStore } from "../src/health/state-store";
import { silentLogger } from "../src/logger";
import { FakeClock } from "../src/time/fake-clock";
import type { NodeInfo } from "../src/vocabulary/node-info";
import { TYPE_URLS } from "../src/vocabulary/type-urls";
import { versionKey } from "../src/vocabulary/version-key";
import { round } from "./fanout/stats";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "10000" },
    rounds: { type: "string", default: "7" },
    code: { type: "string", default: "remote,inline" },
  },
});
const nodes = Number(values.nodes);
const rounds = Number(values.rounds);
const codes = values.code.split(",").map((c) => c.trim());
if (!(nodes > 0) || !(rounds > 0) || codes.some((c) => c !== "remote" && c !== "inline")) throw new Error("usage: --nodes N --rounds R --code remote,inline");
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

function filterOf(code: "remote" | "inline"): FilterConfig {
  return { name: "add-header", kind: "http", module: { type: "file", path: "m.wasm" }, rootId: "", failurePolicy: "FAIL_RELOAD", code, discovery: "ecds", preflight: true, health: DEFAULT_HEALTH };
}

function run(code: "remote" | "inline"): { pushUs: number; ackUs: number; heapPerNodeBytes: number } {
  const filter = filterOf(code);
  const filters = [filter];
  const version = (i: number): ServedFilter => {
    const sha256 = i.toString(16).padStart(64, "0");
    return { filter, module: { sha256, bytes: new Uint8Array() }, key: versionKey(sha256, settingsOf(filter)) };
  };
  let served = new Map([[filter.name, version(1)]]);
  const clock = new FakeClock(1_000_000);
  // As ServingPipeline.nodeVersions: a fresh map per call.
  const nodeVersions = () => {
    const out = new Map<string, string>();
    for (const f of filters) {
      const v = served.get(f.name);
      if (v) out.set(f.name, v.key);
    }
    return out;
  };
  const events = new EventLog();
  const misses = new CacheMisses({ nodeVersions, events, logger: silentLogger, clock });
  const monitor = new HealthMonitor({
    versions: new FilterVersions(StateStore.inMemory(), silentLogger),
    policyOf: (name) => filters.find((f) => f.name === name)?.health,
    discoveryOf: (name) => filters.find((f) => f.name === name)?.discovery,
    remoteOverEcds: (name, key) => {
      const s = served.get(name);
      return s?.key === key && s.filter.code === "remote" && s.filter.discovery === "ecds";
    },
    cacheMisses: misses,
    nodeVersions,
    connected: () => true,
    republish: async () => undefined,
    events,
    logger: silentLogger,
    clock,
  });
  const infos: NodeInfo[] = Array.from({ length: nodes }, (_, i) => ({
    id: `bench-${i}`,
    cluster: "bench",
    locality: { region: "", zone: "", subZone: "" },
    metadata: {},
    userAgent: "",
  }));
  const names = [filter.name];
  const T = TYPE_URLS.extensionConfig;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const push: number[] = [];
  const ack: number[] = [];
  // One warm-up round, then the measured ones.
  for (let r = 0; r <= rounds; r++) {
    served = new Map([[filter.name, version(r + 2)]]);
    monitor.served(served);
    const v = `v${r}`;
    gc?.();
    let c0 = process.cpuUsage();
    for (let i = 0; i < nodes; i++) monitor.onXds({ kind: "push", streamId: i, node: infos[i] as NodeInfo, typeUrl: T, version: v, nonce: String(r), resourceNames: names });
    const p = process.cpuUsage(c0);
    c0 = process.cpuUsage();
    for (let i = 0; i < nodes; i++) monitor.onXds({ kind: "ack", streamId: i, node: infos[i] as NodeInfo, typeUrl: T, version: v, resourceNames: names });
    const a = process.cpuUsage(c0);
    if (r === 0) continue;
    push.push((p.user + p.system) / nodes);
    ack.push((a.user + a.system) / nodes);
  }
  gc?.();
  const heapPerNodeBytes = (process.memoryUsage().heapUsed - heapBefore) / nodes;
  // Keep the monitor alive until measured.
  if (monitor.nodesTracked !== nodes) throw new Error(`expected ${nodes} nodes tracked, got ${monitor.nodesTracked}`);
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
  return { pushUs: round(median(push), 2), ackUs: round(median(ack), 2), heapPerNodeBytes: Math.round(heapPerNodeBytes) };
}

for (const code of codes as Array<"remote" | "inline">) {
  const r = run(code);
  console.log(`${code}: N=${nodes}, ${rounds} rounds: push ${r.pushUs} µs/node, ACK ${r.ackUs} µs/node (medians); monitor heap ${r.heapPerNodeBytes} B/node after the rounds`);
}
