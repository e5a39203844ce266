/**
 * For the ingest tests: the xDS harness (xds-harness.ts) with the
 * metrics service and the access log service on its gRPC server, bound to
 * port 0 (as on the xDS port in production), signals collected from the
 * hub, raw @grpc/grpc-js client streams, and snapshots running real modules.
 */
import * as grpc from "@grpc/grpc-js";
import { Snapshot } from "../../src/cache/snapshot";
import type { SnapshotCache } from "../../src/cache/snapshot-cache";
import { AccessLogIngest, type AccessLogLimits, type ClosedConnectionSink } from "../../src/health/access-log-service";
import { MetricsServiceIngest, type MetricsServiceIngestOptions } from "../../src/health/metrics-service";
import { type HealthSignal, SignalHub } from "../../src/health/signal";
import { memoryLogger } from "../../src/logger";
import { encodeMessage } from "../../src/proto/registry";
import type { XdsStreams } from "../../src/xds/xds-streams";
import { startHarness } from "./xds-harness";
import { ecds, httpListener, moduleBytes, type ModuleName, type Res, routeConfig, staticCluster, TYPE_URLS, wasmAny } from "./xds-resources";

export interface IngestHarness {
  readonly cache: SnapshotCache;
  readonly xds: XdsStreams;
  readonly hub: SignalHub;
  readonly metrics: MetricsServiceIngest;
  readonly accessLogs: AccessLogIngest;
  readonly signals: HealthSignal[];
  readonly logger: ReturnType<typeof memoryLogger>;
  readonly address: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly metrics?: Omit<MetricsServiceIngestOptions, "hub" | "logger">;
  readonly accessLogLimits?: Partial<AccessLogLimits>;
  readonly closedConnections?: ClosedConnectionSink;
}

export async function startIngestHarness(options: HarnessOptions = {}): Promise<IngestHarness> {
  const logger = memoryLogger();
  const hub = new SignalHub();
  const signals: HealthSignal[] = [];
  hub.on((s) => signals.push(s));
  const metrics = new MetricsServiceIngest({ hub, logger, ...options.metrics });
  const accessLogs = new AccessLogIngest({ hub, logger, limits: options.accessLogLimits, ...(options.closedConnections && { closedConnections: options.closedConnections }) });
  const h = await startHarness({
    logger,
    register: (server) => {
      metrics.register(server);
      accessLogs.register(server);
    },
  });
  return { cache: h.cache, xds: h.xds, hub, metrics, accessLogs, signals, logger, address: `127.0.0.1:${h.port}`, close: () => h.close() };
}

/** A raw client stream: write messages, then end and get the status. */
export interface RawStream {
  write(message: object): void;
  writeBytes(bytes: Buffer): void;
  end(): void;
  cancel(): void;
  /** Resolves with the call's status (code 0 when the server answered). */
  readonly done: Promise<{ code: grpc.status; details: string }>;
}

export function openRawStream(address: string, path: string, messageType: string, credentials = grpc.credentials.createInsecure()): RawStream {
  const client = new grpc.Client(address, credentials);
  let call: grpc.ClientWritableStream<Buffer> | undefined;
  const done = new Promise<{ code: grpc.status; details: string }>((resolve) => {
    call = client.makeClientStreamRequest<Buffer, Buffer>(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      (err) => {
        client.close();
        resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: "" });
      },
    );
  });
  const c = call as grpc.ClientWritableStream<Buffer>;
  c.on("error", () => {});
  return {
    write: (message) => c.write(encodeMessage(messageType, message)),
    writeBytes: (bytes) => c.write(bytes),
    end: () => c.end(),
    cancel: () => c.cancel(),
    done,
  };
}

/** One HTTP listener in front of ECDS filter f1 running `module` with the given failure policy. */
export function wasmSnapshot(plugin: string, module: ModuleName, extra: { configuration?: string; failurePolicy?: "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD" } = {}): Snapshot {
  const input = (list: Res[]) => list.map((r) => ({ name: r.name, message: r.message }));
  const f1 = ecds("f1", wasmAny("http", { plugin, rootId: module, code: { inline: moduleBytes(module) }, reloadBaseMs: 1000, ...extra }));
  return Snapshot.create({
    [TYPE_URLS.cluster]: input([staticCluster("backend", 8080)]),
    [TYPE_URLS.extensionConfig]: input([f1]),
    [TYPE_URLS.listener]: input([httpListener("ingress", 10000, [{ ecds: "f1" }])]),
    [TYPE_URLS.route]: input([routeConfig("ingress", "backend")]),
  });
}

/** Signals summed by node, kind and plugin/filter: `node kind[plugin|filter]` -> count. */
export function tally(signals: readonly HealthSignal[], nodeId?: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of signals) {
    if (nodeId !== undefined && s.nodeId !== nodeId) continue;
    const key = `${s.kind}${s.plugin ? `[${s.plugin}]` : s.filter ? `[${s.filter}]` : ""}`;
    out[key] = (out[key] ?? 0) + s.count;
  }
  return out;
}

/** Lets the hub's listeners (run in microtasks) see what was emitted. */
export const settle = () => new Promise((r) => setTimeout(r, 0));
