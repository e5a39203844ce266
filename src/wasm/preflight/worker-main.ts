/**
 * Body of the pre-flight worker: waits for jobs, builds a VM for each and
 * runs the lifecycle, reporting back over the parent port. One job at a
 * time; the parent terminates the worker if a job overruns its budget.
 */
import { parentPort } from "node:worker_threads";
import { errorMessage } from "../../errors";
import { ProxyWasmVm } from "../host/vm";
import { runLifecycle } from "./lifecycle";
import type { WorkerMessage, WorkerRequest } from "./worker-protocol";

const port = parentPort;
const post = (m: WorkerMessage): void => port?.postMessage(m);

port?.on("message", ({ jobId, job }: WorkerRequest) => {
  try {
    const vm = new ProxyWasmVm(job.compiled, {
      rootId: job.rootId,
      vmConfiguration: job.vmConfiguration,
      pluginConfiguration: job.pluginConfiguration,
      environment: job.environment,
      maxLogLines: 0,
      onLog: (line) => post({ jobId, type: "log", line }),
    });
    const outcome = runLifecycle(vm, job.lifecycle, (stage, step) => post({ jobId, type: "step", stage, step }));
    post(
      outcome.ok
        ? { jobId, type: "done", ok: true }
        : { jobId, type: "done", ok: false, stage: outcome.stage, reason: outcome.reason },
    );
  } catch (err) {
    // Linking fails in the constructor, before any step was reported.
    post({ jobId, type: "done", ok: false, stage: "start", reason: errorMessage(err) });
  }
});
post({ type: "ready" });
