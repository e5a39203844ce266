/**
 * The server side of the fan-out benchmark: wasmxds exactly as `wasmxds
 * serve --watch` runs it (startWasmxds on a config folder, watch mode, the
 * V8 pre-flight check, the real module bytes), in its own process, plus a
 * control channel to the orchestrator. It reports when each watcher batch
 * was flushed (the moment the changed file was stable and handed to the
 * publisher: where the module-swap clock starts) and, when armed, when each
 * stream's ACK of a new version arrived, on its own clock.
 *
 * Started by bench/fanout.ts: node --import tsx --expose-gc bench/fanout/server-process.ts <configDir>
 */
import { silentLogger } from "../../src/logger";
import { startWasmxds } from "../../src/main";
import { monotonicMicros, now } from "./clock";
import { cpuOver, cpuSince, settledMemory } from "./common";
import { type AckReport, onParentRequest, type Request, sendToParent } from "./protocol";

const configDir = process.argv[2];
if (!configDir) throw new Error("usage: server-process.ts <configDir> [workers]");
const workers = Number(process.argv[3] ?? "0");

// performance.now() stamps in the watcher batch, converted to the shared clock.
const epoch = (perfNow: number) => performance.timeOrigin + perfNow;

const app = await startWasmxds({
  configDir,
  xdsAddress: { host: "127.0.0.1", port: 0 },
  modulesAddress: { host: "127.0.0.1", port: 0 },
  adminAddress: null,
  watch: true,
  logger: silentLogger,
  // Every simulated Envoy connects from 127.0.0.1.
  maxConnectionsPerAddress: 0,
  workers,
  onWatchBatch: (b) => sendToParent({ type: "batch", flushedAt: epoch(b.flushedAt), firstStableAt: epoch(b.firstStableAt) }),
});

// When the publisher hands a snapshot to the cache: the end of the work that
// does not depend on the number of nodes (read, hash, pre-flight, build,
// encode). Wrapping the instance's method is the least intrusive way to see
// that moment from outside the product code.
let handedAt = Number.NaN;
const setDefault = app.cache.setDefaultSnapshot.bind(app.cache);
app.cache.setDefaultSnapshot = (snapshot) => {
  handedAt = now();
  setDefault(snapshot);
};
app.publisher.events.on((e) => {
  if (e.kind === "published") {
    sendToParent({ type: "published", at: handedAt, version: e.version, changedTypes: e.changedTypes });
  } else if (e.kind === "rejected") {
    sendToParent({ type: "rejected", message: e.message });
  }
});

interface Armed {
  readonly seq: number;
  readonly typeUrls: ReadonlySet<string>;
  readonly expected: number;
  /** Per stream: type URL -> the version it had ACKed when armed. */
  readonly baseline: Map<number, Map<string, string>>;
  /** Per stream: type URLs whose new version it ACKed. */
  readonly progress: Map<number, Set<string>>;
  readonly times: number[];
  readonly pushes: Record<string, number>;
  nacks: number;
  /** performance.now() of the last push (converted when reported: now() reads performance.timeOrigin, a native call, on every push). */
  lastPushPerf: number;
  readonly cpuAtArm: NodeJS.CpuUsage;
  readonly workersCpuAtArm: NodeJS.CpuUsage;
}
let armed: Armed | undefined;

app.xds.events.on((e) => {
  const a = armed;
  if (!a) return;
  if (e.kind === "push") {
    a.pushes[e.typeUrl] = (a.pushes[e.typeUrl] ?? 0) + 1;
    a.lastPushPerf = performance.now();
  } else if (e.kind === "nack") {
    a.nacks++;
  } else if (e.kind === "ack" && a.typeUrls.has(e.typeUrl)) {
    if (a.baseline.get(e.streamId)?.get(e.typeUrl) === e.version) return;
    let done = a.progress.get(e.streamId);
    if (!done) {
      done = new Set();
      a.progress.set(e.streamId, done);
    }
    if (done.has(e.typeUrl)) return;
    done.add(e.typeUrl);
    if (done.size === a.typeUrls.size) {
      a.times.push(now());
      if (a.times.length >= a.expected) report(a);
    }
  }
});

function report(a: Armed): void {
  if (armed !== a) return;
  armed = undefined;
  const mainCpuMs = cpuSince(a.cpuAtArm);
  const lastPushAt = epoch(a.lastPushPerf);
  // With workers, the server's CPU is this process's plus theirs.
  workersCpu()
    .then((w) => {
      const workersCpuMs = (w.user + w.system - (a.workersCpuAtArm.user + a.workersCpuAtArm.system)) / 1000;
      const r: AckReport = { times: a.times, responses: a.pushes, nacks: a.nacks, cpuMs: mainCpuMs + workersCpuMs, lastPushAt, mainCpuMs, workersCpuMs };
      sendToParent({ type: "acked", seq: a.seq, ...r });
    })
    .catch((err: unknown) => sendToParent({ type: "failed", message: String(err) }));
}

/** The workers' CPU time so far (zero without workers). */
function workersCpu(): Promise<NodeJS.CpuUsage> {
  return app.workers ? app.workers.cpuUsage() : Promise.resolve({ user: 0, system: 0 });
}

onParentRequest((req: Request) => {
  handle(req).catch((err: unknown) => sendToParent({ type: "failed", message: String(err) }));
});

async function handle(req: Request): Promise<void> {
  switch (req.op) {
    case "clock":
      sendToParent({ type: "reply", seq: req.seq, kind: "clock", now: now() });
      return;
    case "memory": {
      // With workers: theirs added (their heaps are not settled by a forced GC: no --expose-gc there).
      const own = await settledMemory();
      const w = app.workers ? await app.workers.usage() : undefined;
      const figures = w ? { ...own, rss: own.rss + w.rss, heapUsed: own.heapUsed + w.heapUsed } : own;
      sendToParent({ type: "reply", seq: req.seq, kind: "memory", streams: app.xds.streamCount, ...figures });
      return;
    }
    case "cpu": {
      const before = await workersCpu();
      const own = await cpuOver(req.ms);
      const after = await workersCpu();
      sendToParent({ type: "reply", seq: req.seq, kind: "cpu", ...own, userMs: own.userMs + (after.user - before.user) / 1000, systemMs: own.systemMs + (after.system - before.system) / 1000 });
      return;
    }
    case "arm": {
      const typeUrls = new Set(req.typeUrls);
      const baseline = new Map<number, Map<string, string>>();
      for (const s of app.xds.streamStatuses()) {
        baseline.set(s.streamId, new Map(s.types.filter((t) => typeUrls.has(t.typeUrl)).map((t) => [t.typeUrl, t.acked?.version ?? ""])));
      }
      armed = { seq: req.seq, typeUrls, expected: req.expected, baseline, progress: new Map(), times: [], pushes: {}, nacks: 0, lastPushPerf: Number.NaN, cpuAtArm: process.cpuUsage(), workersCpuAtArm: await workersCpu() };
      sendToParent({ type: "reply", seq: req.seq, kind: "armed" });
      return;
    }
    case "collect":
      if (armed?.seq === req.armSeq) report(armed);
      return;
    case "mark":
      sendToParent({ type: "reply", seq: req.seq, kind: "mark", now: now(), monoMicros: monotonicMicros() });
      return;
    case "stop":
      await app.close();
      sendToParent({ type: "reply", seq: req.seq, kind: "stopped" });
      // Exit normally (not a kill) so --cpu-prof can write its profile.
      process.disconnect?.();
      process.exit(0);
      return;
    case "start":
      return;
  }
}

sendToParent({ type: "ready", port: app.xdsAddress.port, pid: process.pid });
