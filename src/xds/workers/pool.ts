/**
 * The xDS workers (`--workers N`, docs/WORKERS.md): N processes that each
 * hold a share of the Envoys' connections (this process accepts them and
 * hands each to the worker holding fewest: connection-router.ts) and run
 * their streams, while this process keeps
 * every decision (config, pipeline, health, rollouts, admin). It feeds each
 * worker the snapshots its streams' groups need, once per version; places
 * each stream in its group; and turns the workers' reports into the same
 * events, statuses and NACK history XdsServer gives in one process
 * (stream-mirror.ts), so the rest of the control plane cannot tell where a
 * stream runs. A worker that dies is replaced; its Envoys reconnect (to any
 * worker) and get the same config.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { SnapshotCache } from "../../cache/snapshot-cache";
import { WasmxdsError } from "../../errors";
import { LogLimiter } from "../../log-limiter";
import { type Logger, silentLogger } from "../../logger";
import type { CertificateFiles, CertificateMaterial } from "../../net/grpc-tls";
import type { NodeIdentityMode } from "../../net/node-identity";
import { PACKAGE_ROOT } from "../../package-root";
import { type Clock, realClock, type TimerHandle } from "../../time/clock";
import type { StreamLimits } from "../limits";
import { CallBridge } from "./call-bridge";
import { ConnectionRouter } from "./connection-router";
import { GroupFeed } from "./group-feed";
import { type FromWorker, IPC_SERIALIZATION, isFromWorker, type ToWorker, type WorkerInit, type WorkerUsage } from "./protocol";
import { StreamMirror } from "./stream-mirror";

export interface WorkerPoolOptions {
  readonly workers: number;
  readonly cache: SnapshotCache;
  readonly host: string;
  readonly port: number;
  /** The gRPC port's certificates: the workers serve what these read, and follow their rotation. */
  readonly tls?: CertificateFiles;
  readonly nodeIdentity?: NodeIdentityMode;
  readonly limits?: Partial<StreamLimits>;
  readonly maxStreams?: number;
  readonly maxConnectionsPerAddress: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** How long a worker may take to listen (default 30 s). */
  readonly startTimeoutMs?: number;
}

const NO_USAGE: WorkerUsage = Object.freeze({ user: 0, system: 0, rss: 0, heapUsed: 0 });

/** Stream ids a worker may use before its replacement's range starts (per slot: ids index + 1 + k * count). */
const STREAM_IDS_PER_GENERATION = 2 ** 32;

/** A replaced worker waits this long, doubling on each death in a row up to MAX_RESPAWN_MS. */
const FIRST_RESPAWN_MS = 500;
const MAX_RESPAWN_MS = 30_000;

/**
 * Where a worker's code is: run from the TypeScript sources (tests, tsx),
 * the worker runs the .ts file with tsx registered; from the build,
 * dist/cli/xds-worker.js (an entry of scripts/build.mjs, dependencies bundled).
 */
function workerCode(): { exec: string; execArgv: string[] } {
  // Node flags for the workers alone (e.g. `--max-old-space-size=2048`, `--cpu-prof`), space-separated.
  const flags = (process.env.WASMXDS_WORKER_NODE_FLAGS ?? "").split(" ").filter((f) => f !== "");
  if (import.meta.url.endsWith(".ts")) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    return { exec: fileURLToPath(new URL("./worker-main.ts", import.meta.url)), execArgv: ["--import", tsx, ...flags] };
  }
  return { exec: join(PACKAGE_ROOT, "dist/cli/xds-worker.js"), execArgv: flags };
}

interface Slot {
  readonly index: number;
  worker: ChildProcess | undefined;
  /** Listening: handed connections. */
  ready: boolean;
  /** Deaths in a row without listening in between. */
  deaths: number;
  /** Workers started in this slot so far: each numbers its streams from a new range. */
  generation: number;
  respawn: TimerHandle | undefined;
}

export class WorkerPool {
  /** What the rest of the control plane reads: the streams of every worker. */
  readonly streams: StreamMirror;
  /** Services forwarded from the workers (register the metrics and access log services here). */
  readonly bridge = new CallBridge();
  private readonly feed: GroupFeed;
  private readonly slots: Slot[] = [];
  private readonly logger: Logger;
  private readonly clock: Clock;
  private closing = false;
  private readonly router: ConnectionRouter;
  /** Holds the workers' private gRPC sockets (mkdtemp: mode 0700); made by start(). */
  private socketDir = "";
  private unfollow: (() => void) | undefined;
  /** Warnings a peer triggers, rate limited per peer. */
  private readonly warnings: LogLimiter;
  private nextCpuId = 1;
  /** The workers being started (prepare(): forked early, while the main process does its own start-up). */
  private spawning: Array<Promise<void>> | undefined;
  /** Resolved by start(): a loaded worker is sent its init then (it needs the services registered by then). */
  private released!: () => void;
  private readonly startCalled = new Promise<void>((resolve) => {
    this.released = resolve;
  });
  private readonly usageWaits = new Map<number, { pending: number; sum: WorkerUsage; resolve: (usage: WorkerUsage) => void }>();

  constructor(private readonly options: WorkerPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new WasmxdsError("USAGE", `--workers: expected a whole number of at least 1, got ${options.workers}`);
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? realClock;
    this.feed = new GroupFeed(options.cache, (worker, m) => this.send(worker, m));
    this.streams = new StreamMirror(options.cache, this.feed, this.clock, () => {
      for (const s of this.slots) if (s.ready) this.send(s.index, { t: "close-streams" });
    });
    for (let index = 0; index < options.workers; index++) this.slots.push({ index, worker: undefined, ready: false, deaths: 0, generation: 0, respawn: undefined });
    this.router = new ConnectionRouter(
      { ready: () => this.slots.filter((s) => s.ready).map((s) => s.index), hand: (w, id, socket) => this.hand(w, id, socket) },
      options.maxConnectionsPerAddress,
      (address, open, limit) => this.warnings.warn(`max-connections|${address}`, "refusing a gRPC connection: too many from one address", { peer: address, open, limit }),
      (address) => this.warnings.warn("no-worker", "closing a gRPC connection: no xDS worker is running", { peer: address }),
    );
    this.warnings = new LogLimiter(this.logger, this.clock);
  }

  /**
   * Forks the worker processes now, so that loading their code (a few
   * hundred milliseconds) overlaps the main process's own start-up (the
   * first publish); start() then only initialises them.
   */
  prepare(): void {
    if (this.spawning) return;
    this.spawning = this.slots.map((s) => this.spawn(s));
    // Awaited by start(); until then a failure must not be an unhandled rejection.
    for (const p of this.spawning) p.catch(() => {});
  }

  /** Starts every worker; resolves with the port they listen on, or rejects naming why one could not. */
  async start(): Promise<number> {
    this.socketDir = mkdtempSync(join(tmpdir(), "wasmxds-xds-"));
    if (this.options.tls) this.followRotation(this.options.tls);
    this.prepare();
    this.released();
    try {
      await Promise.all(this.spawning ?? []);
      // Envoys are let in once every worker can take them.
      return await this.router.listen(this.options.host, this.options.port);
    } catch (err) {
      await this.close(0);
      throw err;
    }
  }

  /** Each worker's process id (undefined while it is being replaced) and open connections. */
  workers(): Array<{ index: number; pid: number | undefined; ready: boolean; connections: number }> {
    const counts = this.router.counts();
    return this.slots.map((s) => ({ index: s.index, pid: s.worker?.pid, ready: s.ready, connections: counts.get(s.index) ?? 0 }));
  }

  /** The workers' CPU time, summed (benchmarks; the main process's own is process.cpuUsage()). */
  async cpuUsage(): Promise<NodeJS.CpuUsage> {
    const { user, system } = await this.usage();
    return { user, system };
  }

  /** The workers' CPU time and memory (RSS, JS heap), summed over the live ones. */
  usage(): Promise<WorkerUsage> {
    const live = this.slots.filter((s) => s.worker?.connected);
    if (live.length === 0) return Promise.resolve(NO_USAGE);
    const id = this.nextCpuId++;
    return new Promise((resolve) => {
      this.usageWaits.set(id, { pending: live.length, sum: NO_USAGE, resolve });
      for (const s of live) this.send(s.index, { t: "cpu", id });
    });
  }

  /** Ends every stream (status OK) and stops the workers: each waits at most `graceMs` for its calls, then closes its connections. */
  async close(graceMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const stopped = this.router.close();
    const exits = this.slots.map((s) => {
      s.respawn?.cancel();
      const w = s.worker;
      if (!w || w.exitCode !== null || w.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const kill = setTimeout(() => w.kill("SIGKILL"), graceMs + 5000);
        w.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        // A worker not serving yet has no streams to end.
        if (s.ready) this.send(s.index, { t: "shutdown", graceMs });
        else w.kill("SIGTERM");
      });
    });
    await Promise.all([...exits, stopped]);
    this.warnings.close();
    this.unfollow?.();
    if (this.socketDir) rmSync(this.socketDir, { recursive: true, force: true });
  }

  private spawn(slot: Slot): Promise<void> {
    const { exec, execArgv } = workerCode();
    const worker = fork(exec, [], { execArgv, serialization: IPC_SERIALIZATION, env: { ...process.env, WASMXDS_XDS_WORKER: String(slot.index) } });
    slot.worker = worker;
    slot.ready = false;
    const count = this.slots.length;
    const generation = slot.generation++;
    const init = (): WorkerInit => ({
      t: "init",
      index: slot.index,
      // A replaced worker must not reuse the ids of the streams its predecessor held (NACK records, events name them).
      firstStreamId: slot.index + 1 + count * STREAM_IDS_PER_GENERATION * generation,
      count,
      socketPath: join(this.socketDir, `worker-${slot.index}-${Date.now().toString(36)}.sock`),
      ...(this.options.tls && { tls: this.material(this.options.tls) }),
      nodeIdentity: this.options.nodeIdentity ?? "off",
      ...(this.options.limits && { limits: this.options.limits }),
      ...(this.options.maxStreams !== undefined && { maxStreams: this.options.maxStreams }),
      bridged: this.bridge.paths(),
      debug: false,
    });
    return new Promise<void>((resolve, reject) => {
      const timeoutMs = this.options.startTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        if (slot.ready) return;
        worker.kill("SIGKILL");
        reject(new WasmxdsError("WORKER_FAILED", `xDS worker ${slot.index} did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      worker.on("message", (m: unknown) => {
        if (!isFromWorker(m)) return;
        if (m.t === "loaded") {
          this.startCalled.then(
            () => this.send(slot.index, init()),
            (err: unknown) => this.logger.error("could not initialise an xDS worker", { worker: slot.index, err: String(err) }),
          );
          return;
        }
        if (m.t === "listening") {
          slot.ready = true;
          slot.deaths = 0;
          clearTimeout(timer);
          resolve();
          return;
        }
        if (m.t === "failed") {
          clearTimeout(timer);
          reject(new WasmxdsError("WORKER_FAILED", `xDS worker ${slot.index}: ${m.message}`));
          return;
        }
        this.onMessage(slot.index, m);
      });
      // Sending to a worker that just died fails asynchronously; its exit is handled below.
      worker.on("error", (err) => this.logger.warn("xDS worker channel error", { worker: slot.index, err: String(err) }));
      worker.on("exit", (code, signal) => {
        clearTimeout(timer);
        const wasReady = slot.ready;
        slot.ready = false;
        if (slot.worker === worker) slot.worker = undefined;
        this.router.workerGone(slot.index);
        this.streams.workerGone(slot.index, `xDS worker process ${slot.index} exited`);
        this.bridge.workerGone(slot.index);
        this.feed.reset(slot.index);
        for (const [id, wait] of this.usageWaits) this.usageDone(id, wait, NO_USAGE);
        if (!wasReady) {
          reject(new WasmxdsError("WORKER_FAILED", `xDS worker ${slot.index} exited before it was ready (${signal ?? `code ${code}`})`));
          if (this.closing || slot.deaths === 0) return;
        }
        if (this.closing) return;
        slot.deaths++;
        const delay = Math.min(MAX_RESPAWN_MS, FIRST_RESPAWN_MS * 2 ** (slot.deaths - 1));
        this.logger.error("an xDS worker process exited; its Envoys reconnect to the others, and it is replaced", { worker: slot.index, code, signal, restartInMs: delay });
        slot.respawn = this.clock.setTimeout(() => {
          slot.respawn = undefined;
          if (this.closing) return;
          this.spawn(slot).then(
            () => this.logger.info("xDS worker process replaced", { worker: slot.index }),
            (err: unknown) => this.logger.error("could not replace an xDS worker process", { worker: slot.index, err: String(err) }),
          );
        }, delay);
      });
    });
  }

  private material(files: CertificateFiles): CertificateMaterial {
    const { cert, key } = files.identity;
    const ca = files.clientCa;
    return { cert, key, ...(ca && { ca }) };
  }

  /** After the files were re-read and a new set accepted: every worker serves it to new connections. */
  private followRotation(files: CertificateFiles): void {
    const relay = () => {
      const material = this.material(files);
      for (const s of this.slots) if (s.ready) this.send(s.index, { t: "tls", material });
    };
    files.addIdentityCertificateListener(relay);
    files.addCaCertificateListener(relay);
    this.unfollow = () => {
      files.removeIdentityCertificateListener(relay);
      files.removeCaCertificateListener(relay);
    };
  }

  private hand(worker: number, id: number, socket: Socket): boolean {
    const w = this.slots[worker]?.worker;
    if (!w?.connected) return false;
    try {
      w.send({ t: "conn", id } satisfies ToWorker, socket);
      return true;
    } catch {
      return false;
    }
  }

  private onMessage(worker: number, m: FromWorker): void {
    switch (m.t) {
      case "batch": {
        const streamItems = [];
        for (const item of m.items) {
          if (item[0] === "call" || item[0] === "data" || item[0] === "end") this.bridge.apply(worker, item, (w, r) => this.send(w, { t: "reply", items: [r] }));
          else if (item[0] === "gone") this.router.closed(item[1]);
          else streamItems.push(item);
        }
        this.streams.apply(worker, streamItems, m.streams);
        for (const l of m.logs ?? []) this.logger[l.level](l.message, l.fields);
        return;
      }
      case "took":
        this.router.taken(worker);
        return;
      case "log":
        this.logger[m.level](m.message, m.fields);
        return;
      case "cpu": {
        const wait = this.usageWaits.get(m.id);
        if (wait) this.usageDone(m.id, wait, m);
        return;
      }
      default:
        return;
    }
  }

  private usageDone(id: number, wait: { pending: number; sum: WorkerUsage; resolve: (usage: WorkerUsage) => void }, u: WorkerUsage): void {
    const s = wait.sum;
    wait.sum = { user: s.user + u.user, system: s.system + u.system, rss: s.rss + u.rss, heapUsed: s.heapUsed + u.heapUsed };
    if (--wait.pending > 0) return;
    this.usageWaits.delete(id);
    wait.resolve(wait.sum);
  }

  private send(worker: number, m: ToWorker): void {
    const w = this.slots[worker]?.worker;
    if (!w?.connected) return;
    w.send(m);
  }
}
