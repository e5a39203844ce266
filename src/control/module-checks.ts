/**
 * Runs the pre-flight check on each module version before it may be
 * published, and remembers verdicts: a version (module bytes plus the
 * settings it runs with) is checked once. Re-saving the same bad bytes
 * therefore does not retry; new bytes (or new settings) do.
 */
import { createHash } from "node:crypto";
import type { FilterConfig } from "../config/model";
import type { Logger } from "../logger";
import { type Clock, realClock } from "../time/clock";
import type { ModuleBytes } from "../resources";
import { preflight, precompiledReport } from "../wasm/preflight";
import type { PreflightResult } from "../wasm/preflight";
import { type WasmRuntimeName, mergedEnvironment } from "../vocabulary/wasm-vm";
import type { ModuleChecker, ModuleVerdict } from "./publisher";

export interface CheckRecord {
  readonly filter: string;
  readonly sha256: string;
  readonly ok: boolean;
  readonly stage?: string;
  readonly reason?: string;
  /** The module's own log lines during the check. */
  readonly logs: readonly string[];
  readonly durationMs: number;
  readonly smoke: boolean;
  readonly at: number;
  /** The runtime Envoy will run the filter in; the check itself always runs in V8. */
  readonly runtime: WasmRuntimeName;
  /** What the check cannot vouch for: another runtime, precompiled sections (docs/CONFIG.md "Envoy Wasm fields"). */
  readonly notes: readonly string[];
}

export interface ModuleChecksOptions {
  /** Smoke-test modules whose filter leaves smokeTest unset (on in dev mode). */
  readonly defaultSmoke: boolean;
  readonly timeoutMs?: number;
  readonly logger: Logger;
  /** Called after every check that actually ran (not for remembered verdicts). */
  readonly onCheck?: (record: CheckRecord, cached: boolean) => void;
  /** The check itself (the V8 pre-flight by default). */
  readonly run?: typeof preflight;
  /** Stamps each record's `at` (default: the process clock). */
  readonly clock?: Clock;
}

const MAX_REMEMBERED = 512;

export class ModuleChecks {
  private readonly verdicts = new Map<string, CheckRecord>();
  private readonly inFlight = new Map<string, Promise<CheckRecord>>();

  constructor(private readonly options: ModuleChecksOptions) {}

  /** The checker to hand the Publisher. */
  readonly check: ModuleChecker = async (filter, module) => {
    const smoke = filter.smokeTest ?? this.options.defaultSmoke;
    const key = versionKey(filter, module.sha256, smoke);
    const known = this.verdicts.get(key);
    if (known) {
      this.options.onCheck?.(known, true);
      return verdictOf(known);
    }
    let running = this.inFlight.get(key);
    if (!running) {
      running = this.runCheck(filter, module, smoke);
      this.inFlight.set(key, running);
    }
    try {
      const record = await running;
      this.remember(key, record);
      return verdictOf(record);
    } finally {
      this.inFlight.delete(key);
    }
  };

  /** Rejected versions, newest first. */
  rejected(): CheckRecord[] {
    return [...this.verdicts.values()].filter((r) => !r.ok).sort((a, b) => b.at - a.at);
  }

  /** Every remembered verdict for a filter, newest first. */
  history(filter: string): CheckRecord[] {
    return [...this.verdicts.values()].filter((r) => r.filter === filter).sort((a, b) => b.at - a.at);
  }

  private async runCheck(filter: FilterConfig, module: ModuleBytes, smoke: boolean): Promise<CheckRecord> {
    const run = this.options.run ?? preflight;
    const started = performance.now();
    const result: PreflightResult = await run(module.bytes, {
      kind: filter.kind,
      rootId: filter.rootId,
      pluginConfiguration: filter.configuration,
      vmConfiguration: filter.vmConfiguration,
      smoke,
      timeoutMs: this.options.timeoutMs,
      // The filter's env as Envoy merges it, host keys from preflightEnv: never this process's environment.
      environment: mergedEnvironment(filter.env, filter.preflightEnv ?? {}),
    });
    const runtime = filter.runtime ?? "v8";
    const notes = [...runtimeNotes(runtime)];
    if (result.ok) {
      const pre = precompiledReport(result.customSections, runtime, filter.allowPrecompiled === true);
      if (pre) notes.push(`precompiled code: ${pre.note}`);
    }
    const record: CheckRecord = Object.freeze({
      filter: filter.name,
      sha256: module.sha256,
      ok: result.ok,
      ...(!result.ok && { stage: result.stage, reason: result.reason }),
      logs: result.logs.map((l) => `[${l.level}] ${l.message}`),
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      smoke,
      at: (this.options.clock ?? realClock).now(),
      runtime,
      notes: Object.freeze(notes),
    });
    const fields = { filter: filter.name, module: module.sha256.slice(0, 8), ms: record.durationMs, smoke };
    if (record.ok) this.options.logger.info("pre-flight passed", { ...fields, ...(notes.length > 0 && { notes }) });
    else this.options.logger.error("pre-flight failed", { ...fields, stage: record.stage, reason: record.reason, moduleLogs: record.logs });
    this.options.onCheck?.(record, false);
    return record;
  }

  private remember(key: string, record: CheckRecord): void {
    this.verdicts.delete(key);
    this.verdicts.set(key, record);
    if (this.verdicts.size > MAX_REMEMBERED) this.verdicts.delete(this.verdicts.keys().next().value as string);
  }
}

function verdictOf(r: CheckRecord): ModuleVerdict {
  return r.ok ? { ok: true } : { ok: false, reason: `pre-flight ${r.stage}: ${r.reason}` };
}

/** What makes a module version: bytes and every setting the check depends on. */
function versionKey(filter: FilterConfig, sha256: string, smoke: boolean): string {
  const environment = filter.env ? [filter.env, filter.preflightEnv ?? {}] : null;
  const vm = [filter.runtime ?? "v8", filter.allowPrecompiled === true];
  return createHash("sha256")
    .update(JSON.stringify([sha256, filter.kind, filter.rootId, filter.configuration ?? null, filter.vmConfiguration ?? null, smoke, environment, vm]))
    .digest("hex");
}

/**
 * The check runs in V8 whatever the runtime (docs/ENVOY.md "Wasm runtimes"):
 * what it cannot vouch for elsewhere is said with the result.
 */
function runtimeNotes(runtime: WasmRuntimeName): string[] {
  if (runtime === "v8") return [];
  return [
    `checked in V8, but Envoy runs this filter in ${runtime}: compile, ABI and callback results carry over; timing, memory use and engine limits may differ`,
    `an Envoy built without envoy.wasm.runtime.${runtime} cannot create the VM ("Failed to create Wasm VM using envoy.wasm.runtime.${runtime} runtime. Envoy was compiled without support for it") and refuses the filter; Envoy's release images include V8 only`,
  ];
}
