/**
 * Runs the pre-flight lifecycle in a worker thread so that a module that
 * loops forever, or exhausts the worker's heap, can be stopped: the time
 * budget is enforced with worker.terminate(), the heap with resourceLimits.
 * The budget starts with the first module step, so the worker's own start-up
 * (loading the TypeScript sources) does not count against the module.
 */
import { Worker } from "node:worker_threads";
import { errorMessage } from "../../errors";
import type { ModuleLogLine } from "../host/vm-options";
import type { LifecycleOutcome, LifecycleStage } from "./lifecycle";
import type { WorkerJob, WorkerMessage } from "./worker-protocol";

export type WorkerOutcome = LifecycleOutcome | { ok: false; stage: "timeout"; reason: string };

const WORKER_URL = new URL("./worker-entry.mjs", import.meta.url);
/** Generous bound on loading the worker itself, before the module runs. */
const STARTUP_BUDGET_MS = 15_000;

function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === "object" && m !== null && typeof (m as { type?: unknown }).type === "string";
}

export function runInWorker(
  job: WorkerJob,
  timeoutMs: number,
  onLog: (line: ModuleLogLine) => void,
): Promise<WorkerOutcome> {
  return new Promise((resolve) => {
    const worker = new Worker(WORKER_URL, {
      workerData: job,
      // Not the parent's flags: some (e.g. --input-type from \`node -e\`) make the worker fail to
      // start, and the TypeScript loader the worker needs is registered by the worker itself.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    // Keep the worker's console output (if any) out of ours.
    worker.stdout.resume();
    worker.stderr.resume();

    let stage: LifecycleStage = "start";
    let step = "worker start-up";
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const finish = (outcome: WorkerOutcome): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      void worker.terminate();
      resolve(outcome);
    };
    const arm = (ms: number, reason: () => string): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => finish({ ok: false, stage: "timeout", reason: reason() }), ms);
    };

    arm(STARTUP_BUDGET_MS, () => `the pre-flight worker did not start within ${STARTUP_BUDGET_MS} ms`);
    let moduleClockStarted = false;

    worker.on("message", (m: unknown) => {
      if (!isWorkerMessage(m)) return;
      if (m.type === "log") {
        onLog(m.line);
      } else if (m.type === "step") {
        stage = m.stage;
        step = m.step;
        if (!moduleClockStarted) {
          moduleClockStarted = true;
          arm(timeoutMs, () => `timed out after ${timeoutMs} ms in ${step} (${stage} stage)`);
        }
      } else if (m.ok) {
        finish({ ok: true });
      } else {
        finish({ ok: false, stage: m.stage, reason: m.reason });
      }
    });
    worker.on("error", (err) => {
      finish({ ok: false, stage, reason: `pre-flight worker failed in ${step}: ${errorMessage(err)}` });
    });
    worker.on("exit", (code) => {
      finish({ ok: false, stage, reason: `pre-flight worker exited with code ${code} in ${step}` });
    });
  });
}
