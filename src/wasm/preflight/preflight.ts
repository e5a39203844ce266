/**
 * The pre-flight check: would Envoy accept this module, and does it survive
 * a request? Mirrors Envoy's own sequence for inline code (docs/ENVOY.md
 * "What Envoy does when a module is bad"): compile, check the ABI surface
 * the way the V8 linker and callback lookup do, then a canary run of start,
 * on_vm_start and on_configure, here in a worker thread under a time and
 * memory budget. Optional smoke traffic follows.
 */
import { errorMessage } from "../../errors";
import { readModuleInterface } from "../abi/module-interface";
import { formatSig } from "../abi/signature";
import type { CompiledProxyWasm } from "../host/compiled";
import type { ModuleLogLine } from "../host/vm-options";
import { Wasm, type WasmModule } from "../host/wasm-api";
import { checkAbi } from "./abi-check";
import { customSectionNames } from "./precompiled";
import { runInWorker } from "./run-in-worker";
import {
  PREFLIGHT_DEFAULTS,
  type PreflightFailure,
  type PreflightOptions,
  type PreflightResult,
  type PreflightStage,
} from "./types";

const MAX_LOG_LINES = 1000;
const encoder = new TextEncoder();
const toBytes = (v: string | Uint8Array | undefined): Uint8Array =>
  v === undefined ? new Uint8Array(0) : typeof v === "string" ? encoder.encode(v) : v;

export async function preflight(bytes: Uint8Array, opts: PreflightOptions): Promise<PreflightResult> {
  const started = performance.now();
  const logs: ModuleLogLine[] = [];
  const fail = (stage: PreflightStage, reason: string): PreflightFailure => ({ ok: false, stage, reason, logs });

  let module: WasmModule;
  try {
    module = await Wasm.compile(bytes);
  } catch (err) {
    return fail("compile", errorMessage(err));
  }

  let iface: ReturnType<typeof readModuleInterface>;
  try {
    iface = readModuleInterface(bytes);
  } catch (err) {
    return fail("abi", `cannot read the module's imports and exports: ${errorMessage(err)}`);
  }
  const abi = checkAbi(iface);
  if (!abi.ok) return fail("abi", abi.problems.join("; "));

  const compiled: CompiledProxyWasm = { module, interface: iface, abiVersion: abi.abiVersion };
  const outcome = await runInWorker(
    {
      compiled,
      rootId: opts.rootId ?? "",
      vmConfiguration: toBytes(opts.vmConfiguration),
      pluginConfiguration: toBytes(opts.pluginConfiguration),
      // Only what the caller passed: the check must not leak or depend on this process's environment.
      environment: { ...opts.environment },
      lifecycle: {
        kind: opts.kind,
        smoke: opts.smoke ?? false,
        maxMemoryBytes: opts.maxMemoryBytes ?? PREFLIGHT_DEFAULTS.maxMemoryBytes,
      },
    },
    opts.timeoutMs ?? PREFLIGHT_DEFAULTS.timeoutMs,
    (line) => {
      logs.push(line);
      if (logs.length > MAX_LOG_LINES) logs.shift();
    },
  );
  if (!outcome.ok) return fail(outcome.stage, outcome.reason);

  return {
    ok: true,
    abiVersion: abi.abiVersion,
    exports: iface.exports.map((e) =>
      e.signature ? { name: e.name, kind: e.kind, signature: formatSig(e.signature) } : { name: e.name, kind: e.kind },
    ),
    imports: iface.imports.map((i) =>
      i.signature
        ? { module: i.module, name: i.name, kind: i.kind, signature: formatSig(i.signature) }
        : { module: i.module, name: i.name, kind: i.kind },
    ),
    logs,
    durationMs: Math.round(performance.now() - started),
    customSections: customSectionNames(bytes),
  };
}
