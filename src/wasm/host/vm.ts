/**
 * A proxy-wasm VM: one instance of a compiled module with one plugin (root
 * context), driven through the same callbacks Envoy uses. Linking happens in
 * the constructor, instantiation and the start functions in start(). Any
 * trap, abort or proc_exit inside a module call fails the VM for good, and
 * every later call throws VmFailedError, like an Envoy worker whose VM
 * crashed (docs/ENVOY.md "What Envoy does when a running module crashes").
 *
 * Compile once (compileProxyWasm) and create many VMs from the result; VMs
 * can share a SharedState and a MetricRegistry.
 */
import { ModuleError } from "../../errors";
import type { LogLevelName } from "../abi/enums";
import { LogLevel, WasmResult } from "../abi/enums";
import type { ModuleInterface } from "../abi/module-interface";
import type { AbiVersion } from "../abi/versions";
import { CallGuard } from "./call-guard";
import { type CompiledProxyWasm, declaredAbiVersion } from "./compiled";
import type { ContextHost } from "./context-host";
import { ContextState, type SideCall } from "./context-state";
import { GuestMemory } from "./guest-memory";
import type { HostEnv, LogSource } from "./host-env";
import { HttpContext } from "./http-context";
import { ALLOC_ALLOWED, type Linked, link, START_ALLOWED } from "./linker";
import { resolveExports, type WasmFunction } from "./module-exports";
import { type MetricRegistry, VmMetrics } from "./metrics";
import { NetworkContext } from "./network-context";
import { PropertyStore } from "./properties";
import { type ModuleLogLine, type ProxyWasmVmOptions, type ResolvedVmOptions, resolveVmOptions } from "./vm-options";
import { isWasmModule, Wasm, type WasmModule } from "./wasm-api";

export class ProxyWasmVm {
  readonly abiVersion: AbiVersion;
  private readonly opts: ResolvedVmOptions;
  private readonly module: WasmModule;
  private readonly iface: ModuleInterface | undefined;
  private readonly memory = new GuestMemory(undefined);
  private readonly properties: PropertyStore;
  private readonly vmMetrics: VmMetrics;
  private readonly linked: Linked;
  private readonly vmContext = new ContextState(0, "vm", 0);
  private readonly contexts = new Map<number, ContextState>([[0, this.vmContext]]);
  private readonly guard: CallGuard;
  private root: ContextState | undefined;
  private nextContextId = 1;
  private functions: ReadonlyMap<string, WasmFunction> = new Map();
  private started = false;
  private readonly logLines: ModuleLogLine[] = [];
  private readonly calls: SideCall[] = [];
  private tickMs = 0;
  private pendingQueueReady: [number, number][] = [];
  private rootPendingDone = false;
  private rootDeleteDue = false;
  private readonly contextHost: ContextHost;

  constructor(compiled: CompiledProxyWasm | WasmModule, options: ProxyWasmVmOptions = {}) {
    this.opts = resolveVmOptions(options);
    this.guard = new CallGuard(this.vmContext, (failure) =>
      this.opts.logger.error(failure.message, { rootId: this.opts.rootId }),
    );
    if (isWasmModule(compiled)) {
      this.module = compiled;
      this.iface = undefined;
      this.abiVersion = declaredAbiVersion(Wasm.Module.exports(compiled).map((e) => e.name));
    } else {
      this.module = compiled.module;
      this.iface = compiled.interface;
      this.abiVersion = compiled.abiVersion;
    }
    this.properties = new PropertyStore(this.opts.properties);
    this.vmMetrics = new VmMetrics(this.opts.metrics);
    this.linked = link(this.module, this.iface, this.abiVersion, this.hostEnv(), this.guard.restriction);
    this.contextHost = {
      abiVersion: this.abiVersion,
      createStreamContext: (kind) => this.createStreamContext(kind),
      call: (name, ctx, ...args) => this.callExport(name, ctx, ...args),
      release: (ctx) => this.contexts.delete(ctx.id),
    };
  }

  get rootId(): string {
    return this.opts.rootId;
  }
  get failed(): boolean {
    return this.guard.failure !== undefined;
  }
  /** What failed the VM: a WasmTrapError, or a ModuleError from start-up checks. */
  get failure(): ModuleError | undefined {
    return this.guard.failure;
  }
  /** The most recent module log lines (bounded by maxLogLines). */
  get logs(): readonly ModuleLogLine[] {
    return this.logLines;
  }
  get sideCalls(): readonly SideCall[] {
    return this.calls;
  }
  get tickPeriodMs(): number {
    return this.tickMs;
  }
  get memoryBytes(): number {
    return this.memory.byteLength;
  }
  /** Metric values by name (shared with other VMs if the registry was passed in). */
  get metrics(): MetricRegistry {
    return this.opts.metrics;
  }
  get rootContextId(): number | undefined {
    return this.root?.id;
  }
  hasExport(name: string): boolean {
    return this.functions.has(name);
  }

  /** Instantiates the module and runs _initialize (then main/__main_void) or _start. */
  start(): void {
    if (this.started) throw new ModuleError("MODULE_REJECTED", "the VM was already started");
    this.started = true;
    const instance = this.guard.run("instantiate", this.vmContext, () => new Wasm.Instance(this.module, this.linked.imports));
    let resolved: ReturnType<typeof resolveExports>;
    try {
      resolved = resolveExports(instance.exports, this.abiVersion, this.iface);
    } catch (err) {
      throw this.guard.fail("start", err);
    }
    const memory = resolved.memory ?? this.linked.importedMemory;
    if (!memory) throw this.guard.fail("start", new ModuleError("MODULE_REJECTED", "Wasm module has no memory"));
    this.memory.attach(memory);
    const alloc = resolved.allocator;
    if (alloc) {
      this.memory.allocator = (size) =>
        this.guard.restricted(ALLOC_ALLOWED, () => this.callNumber(alloc.name, this.vmContext, alloc.fn, [size]));
    }
    this.functions = resolved.functions;
    this.guard.restricted(START_ALLOWED, () => {
      if (this.functions.has("_initialize")) {
        this.callExport("_initialize", this.vmContext);
        if (this.functions.has("main")) this.callExport("main", this.vmContext, 0, 0);
        else this.callExport("__main_void", this.vmContext);
      } else {
        this.callExport("_start", this.vmContext);
      }
    });
  }

  /** Creates the plugin's root context (proxy_on_context_create(root, 0)); returns its id. */
  createRootContext(): number {
    this.assertStarted();
    if (this.root) return this.root.id;
    const ctx = new ContextState(this.nextContextId++, "root", 0);
    this.contexts.set(ctx.id, ctx);
    this.root = ctx;
    this.callExport("proxy_on_context_create", ctx, ctx.id, 0);
    return ctx.id;
  }

  /** proxy_on_vm_start(root, vm configuration size); true when absent (Envoy's default). */
  onVmStart(): boolean {
    return this.rootCall("proxy_on_vm_start", this.opts.vmConfiguration.length);
  }
  /** proxy_validate_configuration(root, plugin configuration size). */
  validateConfiguration(): boolean {
    return this.rootCall("proxy_validate_configuration", this.opts.pluginConfiguration.length);
  }
  /** proxy_on_configure(root, plugin configuration size). */
  onConfigure(): boolean {
    return this.rootCall("proxy_on_configure", this.opts.pluginConfiguration.length);
  }
  /** One timer tick: proxy_on_tick(root), whatever the period. */
  tick(): void {
    const root = this.requireRoot();
    this.callExport("proxy_on_tick", root, root.id);
  }
  /** Root shutdown: on_done, then on_delete unless the module asked to finish later (proxy_done). */
  shutdown(): void {
    const root = this.requireRoot();
    const r = this.callExport("proxy_on_done", root, root.id);
    if (r === undefined || r !== 0) this.callExport("proxy_on_delete", root, root.id);
    else this.rootPendingDone = true;
  }
  createHttpContext(): HttpContext {
    return new HttpContext(this.contextHost, this.createStreamContext("http"));
  }
  createNetworkContext(): NetworkContext {
    return new NetworkContext(this.contextHost, this.createStreamContext("network"));
  }

  private createStreamContext(kind: "http" | "network"): ContextState {
    const root = this.requireRoot();
    const ctx = new ContextState(this.nextContextId++, kind, root.id);
    this.contexts.set(ctx.id, ctx);
    this.callExport("proxy_on_context_create", ctx, ctx.id, root.id);
    return ctx;
  }

  private rootCall(name: string, size: number): boolean {
    const root = this.requireRoot();
    root.pluginConfigVisible = true;
    try {
      const r = this.callExport(name, root, root.id, size);
      return r === undefined || r !== 0;
    } finally {
      root.pluginConfigVisible = false;
    }
  }

  private requireRoot(): ContextState {
    this.assertStarted();
    if (!this.root) this.createRootContext();
    return this.root as ContextState;
  }

  private assertStarted(): void {
    this.guard.assertHealthy();
    if (!this.started) throw new ModuleError("MODULE_REJECTED", "start() the VM before creating contexts");
  }

  /** Calls an export if present; unsigned i32 result, 0 for void, undefined when absent. */
  private callExport(name: string, ctx: ContextState, ...args: number[]): number | undefined {
    const fn = this.functions.get(name);
    if (!fn) {
      this.guard.assertHealthy();
      return undefined;
    }
    const result = this.callNumber(name, ctx, fn, args);
    if (this.guard.depth === 0) this.afterCalls();
    return result;
  }

  private callNumber(name: string, ctx: ContextState, fn: WasmFunction, args: number[]): number {
    const r = this.guard.run(name, ctx, () => fn(...args));
    return typeof r === "number" ? r >>> 0 : 0;
  }

  /** Work Envoy defers until the VM call returns: queue notifications and a pending root delete. */
  private afterCalls(): void {
    while (this.pendingQueueReady.length > 0 && !this.failed) {
      const [rootId, token] = this.pendingQueueReady.shift() as [number, number];
      const root = this.contexts.get(rootId);
      if (root) this.callExport("proxy_on_queue_ready", root, rootId, token);
    }
    if (this.rootDeleteDue && this.root && !this.failed) {
      this.rootDeleteDue = false;
      this.callExport("proxy_on_delete", this.root, this.root.id);
    }
  }

  private log(level: LogLevelName, message: string, source: LogSource): void {
    if (LogLevel[level] < this.opts.logLevel) return;
    const line: ModuleLogLine = { level, message, contextId: this.guard.current.id, source };
    if (this.opts.maxLogLines > 0) {
      this.logLines.push(line);
      if (this.logLines.length > this.opts.maxLogLines) this.logLines.shift();
    }
    this.opts.onLog?.(line);
  }

  private hostEnv(): HostEnv {
    return {
      abi: this.abiVersion,
      vmId: this.opts.vmId,
      memory: this.memory,
      properties: this.properties,
      metrics: this.vmMetrics,
      shared: this.opts.shared,
      vmConfiguration: this.opts.vmConfiguration,
      pluginConfiguration: this.opts.pluginConfiguration,
      environment: this.opts.environment,
      logLevel: this.opts.logLevel,
      current: () =>
        (this.guard.effectiveId !== 0 ? this.contexts.get(this.guard.effectiveId) : undefined) ?? this.guard.current,
      context: (id) => this.contexts.get(id),
      setEffectiveContext: (id) => {
        this.guard.effectiveId = id;
      },
      log: (level, message, source) => this.log(level, message, source),
      diagnostic: (message) => this.opts.logger.warn(message, { rootId: this.opts.rootId }),
      nowNanoseconds: () => this.opts.clock(),
      setTickPeriod: (ms) => {
        this.tickMs = ms;
      },
      recordSideCall: (call) => {
        this.calls.push(call);
      },
      done: (ctx) => {
        if (ctx !== this.root || !this.rootPendingDone) return WasmResult.NotFound;
        // Envoy deletes the root after this call returns, not from inside proxy_done.
        this.rootPendingDone = false;
        this.rootDeleteDue = true;
        return WasmResult.Ok;
      },
      queueReady: (rootId, token) => {
        this.pendingQueueReady.push([rootId, token]);
      },
    };
  }
}
