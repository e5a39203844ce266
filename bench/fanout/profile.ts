/**
 * Reads a V8 .cpuprofile (written by node --cpu-prof) and says where the
 * time went: self time per function and per area (wasmxds's own folders,
 * grpc-js, protobufjs, Node internals, GC), optionally only within a window
 * of the monotonic clock (the profile's own time base), so one profile of a
 * whole run can be cut into its scenarios.
 */
import { readFileSync } from "node:fs";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Hotspot {
  readonly name: string;
  readonly selfMs: number;
  readonly selfPercent: number;
}

export interface ProfileSummary {
  readonly windowMs: number;
  /** Sampled time spent running (not idle), ms. */
  readonly busyMs: number;
  readonly byArea: readonly Hotspot[];
  readonly topSelf: readonly Hotspot[];
  /** Time inside (inclusive of callees) selected wasmxds functions. */
  readonly inclusive: readonly Hotspot[];
}

/** Where a function lives, coarsely: what to optimise or blame. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(idle)") return "idle";
    if (functionName === "(program)") return "V8/native (program)";
    return `native ${functionName}`;
  }
  const m = /\/(src|bench|test)\/(.+?)\/[^/]+$/.exec(url);
  if (m && !url.includes("node_modules")) return `wasmxds ${m[1]}/${m[2]}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] as string;
  if (url.startsWith("node:")) {
    const lib = /^node:(?:internal\/)?([^/]+(?:\/[^/]+)?)/.exec(url);
    return `node ${lib?.[1] ?? url}`;
  }
  return url;
}

function label(frame: CallFrame): string {
  const file = frame.url.replace(/^.*\/(node_modules\/|src\/|bench\/)/, "$1");
  return `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
}

/**
 * Summarises `file`, keeping samples between `fromMicros` and `toMicros`
 * (monotonic clock), and inclusive time for functions whose name matches
 * `inclusiveNames`.
 */
export function summarizeProfile(
  file: string,
  window?: readonly [number, number],
  top = 15,
  inclusiveNames: readonly string[] = [],
): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window[0] || t > window[1])) continue;
    // A sample's delta is the time since the previous one: charge it to this sample.
    const id = p.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const area = areaOf(node.callFrame);
    if (area === "idle") idle += us;
    areas.set(area, (areas.get(area) ?? 0) + us);
    const name = label(node.callFrame);
    fns.set(name, (fns.get(name) ?? 0) + us);
    if (inclusiveNames.length > 0) {
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const fn = byId.get(cur)?.callFrame.functionName ?? "";
        if (inclusiveNames.includes(fn) && !seen.has(fn)) {
          seen.add(fn);
          incl.set(fn, (incl.get(fn) ?? 0) + us);
        }
      }
    }
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>, skipIdle: boolean) =>
    [...m]
      .filter(([k]) => !skipIdle || (k !== "idle" && !k.startsWith("(idle)")))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, selfPercent: busy > 0 ? Math.round((us / busy) * 1000) / 10 : 0 }));
  return {
    windowMs: Math.round(total / 100) / 10,
    busyMs: Math.round(busy / 100) / 10,
    byArea: rank(areas, true),
    topSelf: rank(fns, true),
    inclusive: rank(incl, false),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const rows = (title: string, hs: readonly Hotspot[]) => [
    title,
    ...hs.map((h) => `  ${String(h.selfMs).padStart(9)} ms ${String(h.selfPercent).padStart(5)}%  ${h.name}`),
  ];
  return [
    `window ${s.windowMs} ms, busy ${s.busyMs} ms`,
    ...rows("by area (self time, % of busy):", s.byArea),
    ...rows("top functions (self time):", s.topSelf),
    ...(s.inclusive.length ? rows("inclusive:", s.inclusive) : []),
  ].join("\n");
}
