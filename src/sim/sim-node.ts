/**
 * One simulated Envoy: a node identity, one gRPC channel carrying one ADS
 * stream (and the metrics service stream when enabled), the configuration
 * it accepted, its wasm VMs, its stats and admin port, and optional
 * synthetic traffic through its listeners. See docs/SIMULATOR.md.
 */
import * as grpc from "@grpc/grpc-js";
import { Emitter } from "../emitter";
import { WasmxdsError } from "../errors";
import { SHORT_NAMES, TYPE_URLS, type TypeUrl } from "../vocabulary/type-urls";
import { type AdminServer, startAdminServer } from "./admin/admin-server";
import { NodeConfig, type ServerState } from "./config/node-config";
import type { ListenerSpec } from "./config/listener-spec";
import type { ListenerStatus } from "./config/listener-manager";
import type { NackSent, SimNodeEvent } from "./node-events";
import { type NodeIdentity, nodeMessage } from "./node-identity";
import { type ResolvedNodeOptions, resolveNodeOptions, type SimNodeOptions } from "./node-options";
import { AccessLogSink } from "./stats/access-log-sink";
import { MetricsServiceSink } from "./stats/metrics-service-sink";
import { StatsStore } from "./stats/stats-store";
import type { ChainEnvironment } from "./traffic/chain-env";
import { type HttpOutcome, type HttpRequestInput, runHttpRequest } from "./traffic/http-stream";
import { runTcpConnection, type TcpConnectionInput, type TcpOutcome } from "./traffic/tcp-connection";
import { simCredentials } from "./tls";
import { TrafficDriver } from "./traffic/traffic-driver";
import type { WasmPlugin } from "./wasm/wasm-plugin";
import type { XdsApi } from "./xds/ads-stream-client";
import { DeltaXdsClient } from "./xds/delta-xds-client";
import { type SentRequest, XdsClient } from "./xds/xds-client";

const MAX_LOGGED_REQUESTS = 500;
const MAX_LOGGED_NACKS = 100;

export interface NodeSummary {
  readonly id: string;
  readonly connected: boolean;
  readonly state: ServerState;
  /** Accepted version per type (CDS, EDS, LDS, RDS, ECDS); "" when none. */
  readonly versions: Readonly<Record<string, string>>;
  readonly nacks: number;
  readonly ok: number;
  readonly failed: number;
}

export class SimNode {
  readonly stats = new StatsStore();
  readonly events = new Emitter<SimNodeEvent>();
  readonly identity: NodeIdentity;
  private readonly o: ResolvedNodeOptions;
  private readonly client: grpc.Client;
  private readonly xds: XdsClient | DeltaXdsClient;
  private readonly config: NodeConfig;
  private readonly metrics: MetricsServiceSink | undefined;
  private readonly accessLogs: AccessLogSink;
  private readonly traffic: TrafficDriver;
  private admin: AdminServer | undefined;
  private readonly sent: SentRequest[] = [];
  private readonly nackLog: NackSent[] = [];
  private readonly responseVersion = new Map<string, string>();
  private nackCount = 0;
  private counts = { ok: 0, failed: 0 };
  private roundRobin = 0;
  private started = false;
  private stopped = false;

  constructor(options: SimNodeOptions) {
    this.o = resolveNodeOptions(options);
    const { identity, clock, random, logger } = this.o;
    this.identity = identity;
    // A local subchannel pool gives every node its own HTTP/2 connection, as separate Envoys have.
    const tls = simCredentials(this.o.tls);
    this.client = new grpc.Client(this.o.xdsTarget, tls.credentials, {
      ...tls.options,
      "grpc.use_local_subchannel_pool": 1,
      "grpc.max_receive_message_length": -1,
      "grpc.max_send_message_length": -1,
    });
    const node = nodeMessage(identity);
    this.config = new NodeConfig({
      stats: this.stats,
      clock,
      random,
      logger,
      wasm: this.o.wasm,
      ...(this.o.host && { host: this.o.host }),
      initialFetchTimeoutMs: this.o.initialFetchTimeoutMs,
      properties: { "node.id": identity.id, "node.cluster": identity.cluster },
      interest: (typeUrl, names) => this.xds.interest(typeUrl, names),
    });
    const XdsApiClient = this.o.xdsApi === "delta" ? DeltaXdsClient : XdsClient;
    this.xds = new XdsApiClient({
      client: this.client,
      node,
      clock,
      random,
      logger,
      callbacks: {
        // Envoy's watch map hands each ECDS subscription only its own resources from a delta update
        // (watch_map.cc): a filter config the update did not carry is not re-applied (docs/ENVOY.md "Delta xDS").
        apply: (typeUrl, resources, _version, delta) => this.config.apply(typeUrl, delta && typeUrl === TYPE_URLS.extensionConfig ? delta.updated : resources),
        onRequest: (r) => this.onRequest(r),
        onResponse: (r) => {
          this.responseVersion.set(r.typeUrl, r.version);
          this.events.emit({ kind: "response", node: identity.id, ...r });
        },
        onConnectionChange: (connected, reason) => {
          this.stats.set("control_plane.connected_state", connected ? 1 : 0);
          this.events.emit({ kind: "connection", node: identity.id, connected, reason });
        },
      },
    });
    this.stats.set("control_plane.connected_state", 0);
    this.stats.addCollector(() => this.collectModuleMetrics());
    this.metrics = this.o.metrics && new MetricsServiceSink(this.client, this.stats, node, this.o.metrics, clock, logger);
    this.accessLogs = new AccessLogSink(this.client, this.stats, node, clock, random, logger, this.o.controlPlaneCluster);
    this.traffic = new TrafficDriver(this.o.traffic.rps, clock, random, () => this.sendTraffic());
  }

  get id(): string {
    return this.identity.id;
  }
  get connected(): boolean {
    return this.xds.connected;
  }
  /** The xDS variant this node speaks (Envoy's api_type GRPC or DELTA_GRPC). */
  get xdsApi(): XdsApi {
    return this.o.xdsApi;
  }
  get serverState(): ServerState {
    return this.config.serverState;
  }
  /** The admin API address once started, if enabled. */
  get adminAddress(): { host: string; port: number } | undefined {
    return this.admin && { host: this.admin.host, port: this.admin.port };
  }

  /** Starts the node; a stopped node cannot be started again (make a new one, as with a new Envoy). */
  async start(): Promise<void> {
    if (this.stopped) throw new WasmxdsError("USAGE", `node ${this.id} was stopped; create a new SimNode`);
    if (this.started) return;
    this.started = true;
    if (this.o.admin) {
      this.admin = await startAdminServer(
        {
          stats: this.stats,
          serverState: () => (this.serverState === "LIVE" ? "LIVE" : this.serverState),
          serverInfo: () => ({ node: this.identity, versions: this.versions() }),
        },
        this.o.admin.host,
        this.o.admin.port,
      );
    }
    this.xds.start();
    this.config.start();
    this.metrics?.start();
    this.traffic.start();
  }

  async stop(): Promise<void> {
    this.traffic.stop();
    this.metrics?.stop();
    this.accessLogs.stop();
    this.xds.stop();
    this.config.close();
    this.client.close();
    await this.admin?.close();
    this.admin = undefined;
    this.stopped = true;
  }

  /** Accepted version per type, by short name (CDS, EDS, LDS, RDS, ECDS). */
  versions(): Record<string, string> {
    const out: Record<string, string> = {};
    const held = this.xds.versions();
    for (const t of Object.values(TYPE_URLS)) out[SHORT_NAMES[t as TypeUrl]] = held.get(t) ?? "";
    return out;
  }

  /** The last DiscoveryRequests sent, oldest first. */
  requests(): readonly SentRequest[] {
    return this.sent;
  }

  nacks(): readonly NackSent[] {
    return this.nackLog;
  }

  listeners(): ListenerStatus[] {
    return this.config.listeners.status();
  }

  /** The wasm plugins serving now: from ECDS and inline in listeners. */
  plugins(): WasmPlugin[] {
    return [...this.config.ecds.plugins(), ...this.config.listeners.active().flatMap((l) => l.plugins)];
  }

  /** One request through a serving HTTP listener (the named one, or the next in turn); undefined if none. */
  sendHttp(input: HttpRequestInput = {}, listener?: string): HttpOutcome | undefined {
    const spec = this.pick((l) => l.http !== undefined, listener);
    if (!spec) return undefined;
    const started = this.o.clock.now();
    const request = { ...this.o.traffic.http, ...input };
    const outcome = runHttpRequest(spec, request, this.chainEnv());
    // Envoy's downstream_rq_time histogram (ms); the simulated chain takes no simulated time.
    this.stats.record(`http.${spec.http?.statPrefix ?? ""}.downstream_rq_time`, this.o.clock.now() - started);
    this.count(outcome.status >= 200 && outcome.status < 300);
    const method = request.method ?? (request.body && request.body.length > 0 ? "POST" : "GET");
    this.accessLogs.logHttp(spec, outcome, method, request.path ?? "/", request.authority ?? "sim.local");
    this.events.emit({ kind: "http", node: this.id, outcome });
    return outcome;
  }

  /** One connection through a serving TCP listener; undefined if none. */
  openTcp(input: TcpConnectionInput = {}, listener?: string): TcpOutcome | undefined {
    const spec = this.pick((l) => l.http === undefined, listener);
    if (!spec) return undefined;
    const outcome = runTcpConnection(spec, { ...this.o.traffic.tcp, ...input }, this.chainEnv());
    this.count(outcome.closed === "none");
    this.accessLogs.logTcp(spec, outcome);
    this.events.emit({ kind: "tcp", node: this.id, outcome });
    return outcome;
  }

  /** Flushes the buffered access log entries now (as each logger's buffer_flush_interval would); returns the entries written. */
  flushAccessLogs(): number {
    return this.accessLogs.flush();
  }

  /** Flushes stats to the metrics service now; returns the messages written (0 without the sink; more with batchSize). */
  flushMetrics(): number {
    return this.metrics?.flush() ?? 0;
  }

  summary(): NodeSummary {
    return { id: this.id, connected: this.connected, state: this.serverState, versions: this.versions(), nacks: this.nackCount, ...this.counts };
  }

  private pick(kind: (l: ListenerSpec) => boolean, name?: string): ListenerSpec | undefined {
    const candidates = this.config.listeners.active().filter((l) => (name ? l.name === name : kind(l)));
    if (candidates.length === 0) return undefined;
    // A named listener takes no turn: synthetic traffic picks, then sends by name.
    return name ? candidates[0] : candidates[this.roundRobin++ % candidates.length];
  }

  private sendTraffic(): void {
    const spec = this.pick(() => true);
    if (!spec) return;
    if (spec.http) this.sendHttp({}, spec.name);
    else this.openTcp({}, spec.name);
  }

  private count(ok: boolean): void {
    if (ok) this.counts.ok++;
    else this.counts.failed++;
  }

  private chainEnv(): ChainEnvironment {
    const { config } = this;
    return { stats: this.stats, ecds: config.ecds, routes: config.routes, clusters: config.clusters, logger: this.o.logger };
  }

  private onRequest(r: SentRequest): void {
    this.sent.push(r);
    if (this.sent.length > MAX_LOGGED_REQUESTS) this.sent.shift();
    this.events.emit({ kind: "request", node: this.id, request: r });
    if (r.errorDetail) {
      const nack: NackSent = {
        typeUrl: r.typeUrl,
        rejectedVersion: this.responseVersion.get(r.typeUrl) ?? "",
        keptVersion: r.versionInfo,
        nonce: r.responseNonce,
        message: r.errorDetail.message,
        at: this.o.clock.now(),
      };
      this.nackCount++;
      this.nackLog.push(nack);
      if (this.nackLog.length > MAX_LOGGED_NACKS) this.nackLog.shift();
      this.o.logger.warn("NACK", { type: SHORT_NAMES[r.typeUrl as TypeUrl] ?? r.typeUrl, message: nack.message });
      this.events.emit({ kind: "nack", node: this.id, nack });
    } else if (r.responseNonce) {
      this.events.emit({ kind: "ack", node: this.id, typeUrl: r.typeUrl, version: r.versionInfo });
    }
  }

  /** Module-defined metrics, under Envoy's `wasmcustom.` prefix. */
  private collectModuleMetrics(): void {
    for (const m of this.config.wasm.metrics.snapshot()) {
      if (m.kind === "counter") this.stats.setCounter(`wasmcustom.${m.name}`, Number(m.value));
      else if (m.kind === "gauge") this.stats.set(`wasmcustom.${m.name}`, Number(m.value));
    }
  }
}
