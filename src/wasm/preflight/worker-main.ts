/**
 * Body of the pre-flight worker: builds a VM from the job in workerData and
 * runs the lifecycle, reporting back over the parent port.
 */
import { parentPort, workerData } from "node:worker_threads";
import { errorMessage } from "../../errors";
import { ProxyWasmVm } from "../host/vm";
import { runLifecycle } from "./lifecycle";
import type { WorkerJob, WorkerMessage } from "./worker-protocol";

const port = parentPort;
const post = (m: WorkerMessage): void => port?.postMessage(m);
const job = workerData as WorkerJob;

try {
  const vm = new ProxyWasmVm(job.compiled, {
    rootId: job.rootId,
    vmConfiguration: job.vmConfiguration,
    pluginConfiguration: job.pluginConfiguration,
    maxLogLines: 0,
    onLog: (line) => post({ type: "log", line }),
  });
  const outcome = runLifecycle(vm, job.lifecycle, (stage, step) => post({ type: "step", stage, step }));
  post(outcome.ok ? { type: "done", ok: true } : { type: "done", ok: false, stage: outcome.stage, reason: outcome.reason });
} catch (err) {
  // Linking fails in the constructor, before any step was reported.
  post({ type: "done", ok: false, stage: "start", reason: errorMessage(err) });
}
