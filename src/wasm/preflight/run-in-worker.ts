/**
 * Runs the pre-flight lifecycle in a worker thread so that a module that
 * loops forever, or exhausts the worker's heap, can be stopped: the time
 * budget is enforced with worker.terminate(), the heap with resourceLimits.
 *
 * Starting a worker (and loading the code into it) costs tens of
 * milliseconds from the build and a few hundred from the TypeScript sources
 * through tsx, more than checking a module, so one worker
 * is kept warm and reused; it is replaced only after it had to be killed.
 * Jobs run one at a time. The budget starts with the first module step, so
 * the worker's own start-up does not count against the module.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { errorMessage } from "../../errors";
import { PACKAGE_ROOT } from "../../package-root";
import type { ModuleLogLine } from "../host/vm-options";
import type { LifecycleOutcome, LifecycleStage } from "./lifecycle";
import type { WorkerJob, WorkerMessage } from "./worker-protocol";

export type WorkerOutcome = LifecycleOutcome | { ok: false; stage: "timeout"; reason: string };

/**
 * Worker threads do not inherit the main thread's loader. Run from the
 * sources (vitest, or tsx in tests), this file is TypeScript and the worker
 * starts at worker-entry.mjs, which registers tsx before loading
 * worker-main.ts. Run from the build, the worker is the built
 * worker-main.js (an entry of scripts/build.mjs), plain JavaScript: nothing
 * registers tsx at run time.
 */
const WORKER_URL = import.meta.url.endsWith(".ts")
  ? new URL("./worker-entry.mjs", import.meta.url)
  : pathToFileURL(join(PACKAGE_ROOT, "dist/wasm/preflight/worker-main.js"));
/** Generous bound on loading the worker itself, before the module runs. */
const STARTUP_BUDGET_MS = 15_000;

interface Job {
  readonly id: number;
  readonly job: WorkerJob;
  readonly timeoutMs: number;
  readonly onLog: (line: ModuleLogLine) => void;
  readonly resolve: (outcome: WorkerOutcome) => void;
}

function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === "object" && m !== null && typeof (m as { type?: unknown }).type === "string";
}

class WarmWorker {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly queue: Job[] = [];
  private running: Job | undefined;
  private nextId = 1;

  run(job: WorkerJob, timeoutMs: number, onLog: (line: ModuleLogLine) => void): Promise<WorkerOutcome> {
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, job, timeoutMs, onLog, resolve });
      this.pump();
    });
  }

  /** Starts the worker ahead of the first job (optional). */
  warm(): void {
    this.spawn();
  }

  private spawn(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_URL, {
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      // The parent's flags (e.g. --input-type under `node -e`) can break the entry.
      execArgv: [],
    });
    // Nothing in the worker prints: module output arrives as log messages.
    // (Piping the worker's stdout/stderr would keep the process alive even
    // with the worker unref'd.)
    worker.unref();
    this.worker = worker;
    this.ready = new Promise<void>((resolve) => {
      const onMessage = (m: unknown) => {
        if (isWorkerMessage(m) && m.type === "ready") {
          worker.off("message", onMessage);
          resolve();
        }
      };
      worker.on("message", onMessage);
      worker.once("exit", () => resolve());
    });
    worker.on("exit", () => {
      if (this.worker === worker) {
        this.worker = undefined;
        this.ready = undefined;
      }
    });
    return worker;
  }

  /** Forgets a worker at once (the next job gets a fresh one) and stops it. */
  private discard(worker: Worker): void {
    if (this.worker === worker) {
      this.worker = undefined;
      this.ready = undefined;
    }
    // terminate() resolves with the exit code; there is nothing to do if it fails.
    worker.terminate().then(undefined, () => {});
  }

  private pump(): void {
    if (this.running) return;
    const next = this.queue.shift();
    if (!next) return;
    this.running = next;
    const settle = (outcome: WorkerOutcome): void => {
      this.running = undefined;
      next.resolve(outcome);
      this.pump();
    };
    // A bug in execute must still answer the check, or it would wait forever.
    this.execute(next).then(settle, (err: unknown) => settle({ ok: false, stage: "timeout", reason: `pre-flight worker failed: ${errorMessage(err)}` }));
  }

  private execute(j: Job): Promise<WorkerOutcome> {
    const worker = this.spawn();
    const ready = this.ready;
    worker.ref();
    return new Promise<WorkerOutcome>((resolve) => {
      let stage: LifecycleStage = "start";
      let step = "worker start-up";
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let moduleClockStarted = false;

      const finish = (outcome: WorkerOutcome, kill: boolean): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        if (kill) this.discard(worker);
        else worker.unref();
        resolve(outcome);
      };
      const arm = (ms: number, reason: () => string): void => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => finish({ ok: false, stage: "timeout", reason: reason() }, true), ms);
      };
      const onMessage = (m: unknown): void => {
        if (!isWorkerMessage(m) || m.type === "ready" || m.jobId !== j.id) return;
        if (m.type === "log") {
          j.onLog(m.line);
        } else if (m.type === "step") {
          stage = m.stage;
          step = m.step;
          if (!moduleClockStarted) {
            moduleClockStarted = true;
            arm(j.timeoutMs, () => `timed out after ${j.timeoutMs} ms in ${step} (${stage} stage)`);
          }
        } else if (m.ok) {
          finish({ ok: true }, false);
        } else {
          finish({ ok: false, stage: m.stage, reason: m.reason }, false);
        }
      };
      const onError = (err: Error): void => {
        finish({ ok: false, stage, reason: `pre-flight worker failed in ${step}: ${errorMessage(err)}` }, true);
      };
      const onExit = (code: number): void => {
        finish({ ok: false, stage, reason: `pre-flight worker exited with code ${code} in ${step}` }, true);
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      arm(STARTUP_BUDGET_MS, () => `the pre-flight worker did not start within ${STARTUP_BUDGET_MS} ms`);
      // `ready` never rejects (it resolves on exit too); onError reports a failed post.
      ready?.then(() => {
        if (!settled) worker.postMessage({ jobId: j.id, job: j.job });
      }, onError);
    });
  }
}

const shared = new WarmWorker();

export function runInWorker(
  job: WorkerJob,
  timeoutMs: number,
  onLog: (line: ModuleLogLine) => void,
): Promise<WorkerOutcome> {
  return shared.run(job, timeoutMs, onLog);
}

/** Starts the pre-flight worker now, so the first check does not pay for it. */
export function warmPreflightWorker(): void {
  shared.warm();
}
