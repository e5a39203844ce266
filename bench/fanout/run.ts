/**
 * One fan-out run: a wasmxds server on a generated config with L listeners,
 * N simulated Envoys in client processes speaking state-of-the-world or
 * delta xDS, and the four scenarios (connect storm, module swap, full
 * change, steady state).
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { changeAllListeners, generateConfig, swapModule } from "./config-gen";
import { Peer } from "./peer";
import type { AckReport, CpuFigures, MemoryFigures } from "./protocol";
import type { XdsApi } from "../../src/sim/xds/xds-client";
import { type Distribution, distribution, round } from "./stats";

const HERE = import.meta.dirname;
export type ClientKind = "grpc" | "h2" | "sim";
const ALL_TYPES = [TYPE_URLS.cluster, TYPE_URLS.endpoint, TYPE_URLS.extensionConfig, TYPE_URLS.listener, TYPE_URLS.route];

export interface RunOptions {
  readonly nodes: number;
  readonly listeners: number;
  readonly clientProcesses: number;
  /** The server's xDS worker processes (--workers; 0: the streams run in its main process). */
  readonly workers?: number;
  /** `grpc`/`h2`: the simulator's ADS client alone (xds-node.ts) on a grpc-js channel or Node's http2; `sim`: full SimNodes. */
  readonly client: ClientKind;
  /** The xDS variant the nodes speak (StreamAggregatedResources or DeltaAggregatedResources). */
  readonly xdsApi: XdsApi;
  /** Module swaps measured (after one warm-up). */
  readonly swaps: number;
  /** Full changes measured (after one warm-up). */
  readonly changes: number;
  readonly idleSeconds: number;
  /** How the module reaches Envoy (`auto` sends this 23 KB module inline). */
  readonly code: "auto" | "inline" | "remote";
  /** Write a CPU profile of the server here (node --cpu-prof). */
  readonly cpuProfileDir?: string;
  /** Also profile the client processes (to see the simulator's share). */
  readonly profileClients?: boolean;
  readonly log: (line: string) => void;
}

/** A change pushed to every node, timed per node from the file being stable. */
export interface ChangeResult {
  /** Per node, from the watcher's batch flush to the node's ACK (client clock, corrected), ms. */
  readonly ackMs: Distribution;
  /** Same, from chokidar reporting the file stable (before the 20 ms debounce). */
  readonly ackFromFirstStableMs: Distribution;
  /** The same ACKs as the server received them (server clock: no cross-process correction), ms. */
  readonly serverAckMs: Distribution;
  /** From the flush to the snapshot being handed to the cache (read, hash, pre-flight, build, encode), ms (median of swaps). */
  readonly publishMs: number;
  /** From the snapshot being handed to the cache to the last stream's response being written, ms (median). */
  readonly fanoutMs: number;
  /** Server CPU (all threads) per change, from arming to the last ACK: publish, pushes, ACKs (median), ms. */
  readonly serverCpuMs: number;
  /** With --workers: the server main process's share of serverCpuMs (median), ms; the rest is the workers'. */
  readonly serverMainCpuMs?: number;
  /** Client processes' CPU per change (median, all client processes), ms. */
  readonly clientCpuMs: number;
  /** Per swap, when the last node ACKed. */
  readonly allAckedMs: readonly number[];
  /** Responses each node received per type during the change (should be exactly the changed types, once). */
  readonly responsesPerNode: Readonly<Record<string, number>>;
  readonly nacks: number;
}

export interface RunResult {
  readonly nodes: number;
  readonly listeners: number;
  readonly clientProcesses: number;
  readonly client: ClientKind;
  readonly xdsApi: XdsApi;
  readonly connect: {
    readonly ackMs: Distribution;
    readonly serverAckMs: Distribution;
    readonly startLoopMs: number;
    readonly serverCpuMs: number;
    readonly clientCpuMs: number;
  };
  readonly moduleSwap: ChangeResult;
  readonly fullChange: ChangeResult;
  readonly steady: {
    readonly baseline: MemoryFigures;
    /** After the connect storm, before any change was pushed. */
    readonly afterConnect: MemoryFigures;
    /** At the end, after the changes (what a server that has been pushing holds). */
    readonly connected: MemoryFigures;
    readonly streams: number;
    readonly heapPerNodeBytes: number;
    readonly rssPerNodeBytes: number;
    readonly heapPerNodeAfterConnectBytes: number;
    readonly rssPerNodeAfterConnectBytes: number;
    readonly baselineCpu: CpuFigures;
    readonly idleCpu: CpuFigures;
    /** Server CPU over the idle window, percent of one core, minus the 0-node baseline. */
    readonly idleCpuPercent: number;
    /** The same, not minus the baseline, and the baseline itself. */
    readonly idleCpuRawPercent: number;
    readonly baselineCpuPercent: number;
    readonly clientIdleCpuPercent: number;
    readonly clientRss: number;
  };
  readonly clockOffsets: Readonly<Record<string, { offsetMs: number; uncertaintyMs: number }>>;
  readonly profileWindows?: Readonly<Record<string, readonly [number, number]>>;
  readonly profileFile?: string;
}

export async function runOnce(o: RunOptions): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "wasmxds-fanout-"));
  generateConfig(dir, o.listeners, o.code);
  const peers: Peer[] = [];
  try {
    const flags = ["--expose-gc", ...(o.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProfileDir}`] : [])];
    const server = new Peer("server", join(HERE, "server-process.ts"), [dir, String(o.workers ?? 0)], flags);
    peers.push(server);
    const ready = await server.next("ready", 60_000);
    if (!ready) throw new Error("server did not start within 60 s");
    const offsets: Record<string, { offsetMs: number; uncertaintyMs: number }> = { server: await server.calibrateClock() };
    // Let start-up work (JIT, the pre-flight worker warming, GC) finish, so the baseline is idle.
    await sleep(2000);
    // As long as the idle window below: the server has periodic work (health and rollout evaluation) to average over.
    const baselineCpu = pickCpu(await server.request({ op: "cpu", ms: o.idleSeconds * 1000 }, "cpu"));
    // After that idle time, so that start-up memory V8 gives back when idle is not counted as the baseline.
    const baseline = pick(await server.request({ op: "memory" }, "memory"));

    const clients: Peer[] = [];
    const per = Math.ceil(o.nodes / o.clientProcesses);
    for (let first = 0; first < o.nodes; first += per) {
      const count = Math.min(per, o.nodes - first);
      const c = new Peer(`clients-${clients.length}`, join(HERE, "client-process.ts"), [String(ready.port), String(first), String(count), o.client, o.xdsApi], [
        "--expose-gc",
        ...(o.cpuProfileDir && o.profileClients ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProfileDir}`] : []),
      ]);
      peers.push(c);
      clients.push(c);
    }
    for (const c of clients) {
      if (!(await c.next("ready", 60_000))) throw new Error(`${c.name} did not start`);
      offsets[c.name] = await c.calibrateClock();
    }
    const windows: Record<string, [number, number]> = {};
    const mark = async () => (await server.request({ op: "mark" }, "mark")).monoMicros;

    // 1. Connect storm.
    o.log(`  connect storm: ${o.nodes} nodes`);
    let w0 = await mark();
    const stormTimeout = 120_000 + o.nodes * 30;
    const armed = await armAll(server, clients, ALL_TYPES, o.nodes);
    const started = await Promise.all(clients.map((c) => c.request({ op: "start" }, "started")));
    const t0 = Math.min(...started.map((s, i) => (clients[i] as Peer).toLocal(s.startedAt)));
    const storm = await collect(server, clients, armed, stormTimeout);
    windows.connect = [w0, await mark()];
    const connect = {
      ackMs: distribution(storm.clientTimes.map((t) => t - t0)),
      serverAckMs: distribution(storm.serverTimes.map((t) => t - t0)),
      startLoopMs: round(Math.max(...started.map((s) => s.loopMs))),
      serverCpuMs: round(storm.serverReport.cpuMs),
      clientCpuMs: round(storm.clientReports.reduce((t, r) => t + r.cpuMs, 0)),
    };
    o.log(`    all ACKed in ${connect.ackMs.max} ms (p50 ${connect.ackMs.p50} ms)${connect.ackMs.missing ? `, ${connect.ackMs.missing} missing` : ""}`);
    await sleep(1000);
    // Connected and idle, before any push: no garbage from the changes below.
    const afterConnect = pick(await server.request({ op: "memory" }, "memory"));

    // 2. Module swap: one warm-up swap, then the measured ones.
    w0 = await mark();
    const moduleSwap = await change(server, clients, o, [TYPE_URLS.extensionConfig], o.swaps, (i) => swapModule(dir, `swap-${i}-${Date.now()}`));
    windows.moduleSwap = [w0, await mark()];
    o.log(`    module swap: p50 ${moduleSwap.ackMs.p50} ms, p99 ${moduleSwap.ackMs.p99} ms, max ${moduleSwap.ackMs.max} ms`);

    // 3. Full change: every listener's stat prefix and route.
    w0 = await mark();
    const fullChange = await change(server, clients, o, [TYPE_URLS.listener, TYPE_URLS.route], o.changes, (i) =>
      changeAllListeners(dir, o.listeners, i + 1, o.code),
    );
    windows.fullChange = [w0, await mark()];
    o.log(`    full change: p50 ${fullChange.ackMs.p50} ms, p99 ${fullChange.ackMs.p99} ms, max ${fullChange.ackMs.max} ms`);

    // 4. Steady state.
    await sleep(2000);
    const connected = await server.request({ op: "memory" }, "memory");
    w0 = await mark();
    const [idleCpu, ...clientCpu] = await Promise.all([
      server.request({ op: "cpu", ms: o.idleSeconds * 1000 }, "cpu"),
      ...clients.map((c) => c.request({ op: "cpu", ms: o.idleSeconds * 1000 }, "cpu")),
    ]);
    windows.idle = [w0, await mark()];
    const clientMem = await Promise.all(clients.map((c) => c.request({ op: "memory" }, "memory")));
    const pct = (c: CpuFigures) => ((c.userMs + c.systemMs) / c.wallMs) * 100;
    const steady = {
      baseline,
      afterConnect,
      connected: pick(connected),
      streams: connected.streams ?? 0,
      heapPerNodeBytes: Math.round((connected.heapUsed - baseline.heapUsed) / o.nodes),
      rssPerNodeBytes: Math.round((connected.rss - baseline.rss) / o.nodes),
      heapPerNodeAfterConnectBytes: Math.round((afterConnect.heapUsed - baseline.heapUsed) / o.nodes),
      rssPerNodeAfterConnectBytes: Math.round((afterConnect.rss - baseline.rss) / o.nodes),
      baselineCpu,
      idleCpu: pickCpu(idleCpu),
      idleCpuPercent: round(pct(idleCpu) - pct(baselineCpu), 2),
      idleCpuRawPercent: round(pct(idleCpu), 2),
      baselineCpuPercent: round(pct(baselineCpu), 2),
      clientIdleCpuPercent: round(clientCpu.reduce((s, c) => s + pct(c), 0), 2),
      clientRss: clientMem.reduce((s, m) => s + m.rss, 0),
    };
    o.log(
      `    steady: ${steady.streams} streams, heap ${kib(steady.heapPerNodeBytes)} KiB/node, RSS ${kib(steady.rssPerNodeBytes)} KiB/node (${kib(steady.rssPerNodeAfterConnectBytes)} before any push), idle CPU ${steady.idleCpuRawPercent}% of a core (${steady.baselineCpuPercent}% with 0 nodes)`,
    );

    await Promise.all(clients.map((c) => c.request({ op: "stop" }, "stopped").catch(() => undefined)));
    await server.request({ op: "stop" }, "stopped").catch(() => undefined);
    await Promise.all(peers.map((p) => p.exited));
    const profileFile = o.cpuProfileDir ? newestProfile(o.cpuProfileDir, server.child.pid) : undefined;
    return {
      nodes: o.nodes,
      listeners: o.listeners,
      clientProcesses: clients.length,
      client: o.client,
      xdsApi: o.xdsApi,
      connect,
      moduleSwap,
      fullChange,
      steady,
      clockOffsets: Object.fromEntries(Object.entries(offsets).map(([k, v]) => [k, { offsetMs: round(v.offsetMs, 3), uncertaintyMs: round(v.uncertaintyMs, 3) }])),
      ...(o.cpuProfileDir && { profileWindows: windows, profileFile }),
    };
  } finally {
    for (const p of peers) p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Armed {
  readonly serverSeq: number;
  readonly clientSeqs: readonly number[];
  readonly expected: number;
}

/** Arms the server and every client for the given types. */
async function armAll(server: Peer, clients: readonly Peer[], typeUrls: readonly string[], nodes: number): Promise<Armed> {
  const s = await server.request({ op: "arm", typeUrls, expected: nodes }, "armed");
  const cs = await Promise.all(clients.map((c) => c.request({ op: "arm", typeUrls, expected: 0 }, "armed")));
  return { serverSeq: s.seq, clientSeqs: cs.map((c) => c.seq), expected: nodes };
}

interface Collected {
  readonly clientTimes: number[];
  readonly serverTimes: number[];
  readonly clientReports: AckReport[];
  readonly serverReport: AckReport;
}

/** Waits for every armed report (asking for partial ones at the deadline); times on the orchestrator's clock. */
async function collect(server: Peer, clients: readonly Peer[], armed: Armed, timeoutMs: number): Promise<Collected> {
  const deadline = performance.now() + timeoutMs;
  const one = async (p: Peer, seq: number) => {
    const r = await p.next("acked", Math.max(0, deadline - performance.now()), (m) => m.seq === seq);
    if (r) return r;
    p.send({ op: "collect", seq: p.nextSeq(), armSeq: seq });
    const partial = await p.next("acked", 10_000, (m) => m.seq === seq);
    if (!partial) throw new Error(`${p.name}: no ACK report`);
    return partial;
  };
  const [serverReport, ...clientReports] = await Promise.all([one(server, armed.serverSeq), ...clients.map((c, i) => one(c, armed.clientSeqs[i] as number))]);
  if (!serverReport) throw new Error("server: no ACK report");
  const serverTimes = serverReport.times.map((t) => server.toLocal(t));
  while (serverTimes.length < armed.expected) serverTimes.push(Number.NaN);
  return {
    clientTimes: clientReports.flatMap((r, i) => r.times.map((t) => (clients[i] as Peer).toLocal(t))),
    serverTimes,
    clientReports,
    serverReport,
  };
}

/** One warm-up change, then `count` measured ones, each timed from the watcher batch that carried it. */
async function change(
  server: Peer,
  clients: readonly Peer[],
  o: RunOptions,
  typeUrls: readonly string[],
  count: number,
  write: (i: number) => void,
): Promise<ChangeResult> {
  const ack: number[] = [];
  const fromStable: number[] = [];
  const serverAck: number[] = [];
  const publish: number[] = [];
  const loop: number[] = [];
  const allAcked: number[] = [];
  const serverCpu: number[] = [];
  const mainCpu: number[] = [];
  const clientCpu: number[] = [];
  const responses: Record<string, number> = {};
  let nacks = 0;
  for (let i = 0; i <= count; i++) {
    server.drain("batch");
    server.drain("published");
    const armed = await armAll(server, clients, typeUrls, o.nodes);
    write(i);
    const batch = await server.next("batch", 30_000);
    if (!batch) throw new Error("the watcher reported no batch within 30 s");
    const published = await server.next("published", 30_000);
    if (!published) throw new Error("nothing was published within 30 s of the change");
    const got = await collect(server, clients, armed, 60_000 + o.nodes * 10);
    if (i === 0) {
      await sleep(300);
      continue;
    }
    const t0 = server.toLocal(batch.flushedAt);
    const stable = server.toLocal(batch.firstStableAt);
    const times = got.clientTimes;
    ack.push(...times.map((t) => t - t0));
    fromStable.push(...times.map((t) => t - stable));
    serverAck.push(...got.serverTimes.map((t) => t - t0));
    allAcked.push(round(Math.max(...times) - t0));
    const handed = server.toLocal(published.at);
    publish.push(handed - t0);
    loop.push(server.toLocal(got.serverReport.lastPushAt ?? Number.NaN) - handed);
    serverCpu.push(got.serverReport.cpuMs);
    if (got.serverReport.mainCpuMs !== undefined) mainCpu.push(got.serverReport.mainCpuMs);
    clientCpu.push(got.clientReports.reduce((t, r) => t + r.cpuMs, 0));
    for (const r of got.clientReports) {
      nacks += r.nacks;
      for (const [t, n] of Object.entries(r.responses)) responses[t] = (responses[t] ?? 0) + n;
    }
    await sleep(300);
  }
  const median = (xs: number[]) => round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN);
  return {
    ackMs: distribution(ack),
    ackFromFirstStableMs: distribution(fromStable),
    serverAckMs: distribution(serverAck),
    publishMs: median(publish),
    fanoutMs: median(loop),
    serverCpuMs: median(serverCpu),
    ...(o.workers && mainCpu.length > 0 && { serverMainCpuMs: median(mainCpu) }),
    clientCpuMs: median(clientCpu),
    allAckedMs: allAcked,
    responsesPerNode: Object.fromEntries(Object.entries(responses).map(([t, n]) => [t, round(n / (o.nodes * count), 3)])),
    nacks,
  };
}

function pick(m: MemoryFigures): MemoryFigures {
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers };
}

function pickCpu(c: CpuFigures): CpuFigures {
  return { userMs: round(c.userMs), systemMs: round(c.systemMs), wallMs: round(c.wallMs) };
}

/** The main thread's profile of process `pid` (--cpu-prof names files CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile). */
function newestProfile(dir: string, pid: number | undefined): string | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile") && f.includes(`.${pid}.0.`))
    .sort();
  const last = files.at(-1);
  return last && join(dir, last);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function kib(bytes: number): number {
  return round(bytes / 1024);
}

