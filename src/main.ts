/**
 * The one place where the parts are wired together: snapshot cache, ADS
 * server, module store and server, and the publisher that turns the config
 * folder into snapshots.
 */
import * as grpc from "@grpc/grpc-js";
import { SnapshotCache } from "./cache/snapshot-cache";
import { AdminRouter, startAdminServer } from "./admin/admin-server";
import { addCoreRoutes } from "./admin/core-routes";
import { DevOutput } from "./cli/dev-output";
import { EventLog } from "./control/event-log";
import { ModuleChecks } from "./control/module-checks";
import { Publisher, type ModuleChecker, type PublishResult } from "./control/publisher";
import { type ChangeBatch, FolderWatcher } from "./watch/folder-watcher";
import { warmPreflightWorker } from "./wasm/preflight";
import type { Logger } from "./logger";
import type { Terminal } from "./cli/output";
import { bindGrpcServer, GRPC_SERVER_OPTIONS } from "./net/grpc-server";
import type { ListeningHttp } from "./net/http-listen";
import { formatHostPort, type HostPort } from "./net/host-port";
import { type ModuleServer, startModuleServer } from "./wasm/module-server";
import { ModuleStore } from "./wasm/module-store";
import { RemoteModuleResolver } from "./wasm/remote-fetch";
import { XdsServer } from "./xds/xds-server";

export const DEFAULT_ADDRESSES = {
  xds: "127.0.0.1:18000",
  modules: "127.0.0.1:18002",
  admin: "127.0.0.1:18003",
} as const;

export interface WasmxdsOptions {
  readonly configDir: string;
  readonly xdsAddress: HostPort;
  readonly modulesAddress: HostPort;
  /** Admin HTTP API; null disables it. */
  readonly adminAddress: HostPort | null;
  readonly watch: boolean;
  readonly logger: Logger;
  /** Set by `wasmxds dev`: human-readable event lines on this terminal. */
  readonly devOutput?: Terminal;
  /** Smoke-test modules whose filter leaves smokeTest unset (default: on with devOutput). */
  readonly smokeByDefault?: boolean;
  /** Replaces the V8 pre-flight check (tests only). */
  readonly checkModule?: ModuleChecker;
  /** Watcher tuning (tests and benchmarks). */
  readonly watchTiming?: { readonly stabilityMs?: number; readonly debounceMs?: number };
  /** Called with every settled batch of file changes (benchmarks measure from it). */
  readonly onWatchBatch?: (batch: ChangeBatch) => void;
}

/** The state folder inside the config folder; never watched. */
export const STATE_DIR_NAME = ".wasmxds";

export interface RunningWasmxds {
  readonly xdsAddress: HostPort;
  readonly modulesAddress: HostPort;
  readonly adminAddress: HostPort | null;
  readonly cache: SnapshotCache;
  readonly events: EventLog;
  readonly xds: XdsServer;
  readonly store: ModuleStore;
  readonly publisher: Publisher;
  readonly checks: ModuleChecks;
  /** Rebuilds from the config folder now. */
  reload(): Promise<PublishResult>;
  close(): Promise<void>;
}

export async function startWasmxds(options: WasmxdsOptions): Promise<RunningWasmxds> {
  const { logger } = options;
  const cache = new SnapshotCache({ logger: logger.child({ component: "cache" }) });
  const xds = new XdsServer({ cache, logger: logger.child({ component: "xds" }) });
  const store = new ModuleStore({ logger });
  const resolver = new RemoteModuleResolver(store, { logger });
  const dev = options.devOutput ? new DevOutput(options.devOutput) : undefined;
  const events = new EventLog();
  const checks = new ModuleChecks({
    defaultSmoke: options.smokeByDefault ?? Boolean(dev),
    logger: logger.child({ component: "preflight" }),
    onCheck: (r, cached) => {
      dev?.onCheck(r, cached);
      if (cached) return;
      events.add(r.ok ? "preflight-passed" : "preflight-failed", "preflight", r.ok ? `${r.filter} ${r.sha256.slice(0, 8)} passed` : `${r.filter} ${r.sha256.slice(0, 8)} failed at ${r.stage}: ${r.reason}`, {
        filter: r.filter,
        sha256: r.sha256,
        durationMs: r.durationMs,
        ...(!r.ok && { moduleLogs: r.logs }),
      });
    },
  });
  if (dev) xds.events.on((e) => dev.onXds(e));
  recordXdsEvents(events, xds);

  const grpcServer = new grpc.Server(GRPC_SERVER_OPTIONS);
  xds.register(grpcServer);
  let modules: ModuleServer | undefined;
  let admin: ListeningHttp | undefined;
  let bound: Awaited<ReturnType<typeof bindGrpcServer>> | undefined;
  try {
    modules = await startModuleServer({ store, host: options.modulesAddress.host, port: options.modulesAddress.port, logger });
    const publisher = new Publisher({
      configDir: options.configDir,
      cache,
      store,
      resolver,
      moduleServer: modules.address,
      logger,
      checkModule: options.checkModule ?? checks.check,
    });
    if (dev) publisher.events.on((e) => dev.onPublisher(e));
    publisher.events.on((e) => {
      if (e.kind === "published") events.add("published", "config", `published version ${e.version}`, { changed: e.changedTypes, modules: Object.fromEntries(e.modules) });
      else if (e.kind === "rejected") events.add("rejected", "config", e.message, { stage: e.stage, keptVersion: e.keptVersion });
      else if (e.kind === "module-changed") events.add("module-changed", "watcher", `filter ${e.filter} module ${e.to.slice(0, 8)}`, { filter: e.filter, from: e.from, to: e.to });
    });
    // Publish before accepting Envoys, so the first one gets the config at once.
    const first = await publisher.reload();
    if (!first.ok) throw first.error;
    let watcher: FolderWatcher | undefined;
    if (options.watch) {
      // The first check after a change should not pay for starting the worker.
      if (!options.checkModule) warmPreflightWorker();
      watcher = new FolderWatcher({
        dir: options.configDir,
        logger,
        ignorePaths: [STATE_DIR_NAME],
        ...options.watchTiming,
        onBatch: (batch) => {
          logger.debug("files changed", { files: [...batch.changes].map(([p, e]) => `${e} ${p}`) });
          options.onWatchBatch?.(batch);
          void publisher.reload();
        },
      });
      await watcher.start();
    }
    if (options.adminAddress) {
      const router = addCoreRoutes(new AdminRouter(), { xds, publisher, checks, events });
      admin = await startAdminServer(router, options.adminAddress, logger);
    }
    bound = await bindGrpcServer(grpcServer, options.xdsAddress.host, options.xdsAddress.port);
    const xdsAddress = { host: bound.host, port: bound.port };
    logger.info("wasmxds ready", {
      xds: formatHostPort(xdsAddress),
      modules: formatHostPort(modules.address),
      admin: admin ? formatHostPort(admin.address) : "off",
      config: options.configDir,
      version: first.snapshot.version,
      watch: options.watch,
    });
    dev?.line("▶", "cyan", `serving ${options.configDir} on xDS ${formatHostPort(xdsAddress)}, modules ${formatHostPort(modules.address)}${options.watch ? "; watching for changes" : ""}`);
    const ms = modules;
    const b = bound;
    const adm = admin;
    return {
      xdsAddress,
      modulesAddress: ms.address,
      adminAddress: adm?.address ?? null,
      cache,
      events,
      xds,
      store,
      publisher,
      checks,
      reload: () => publisher.reload(),
      close: async () => {
        await watcher?.close();
        xds.closeAllStreams();
        await Promise.all([b.close(), ms.close(), adm?.close()]);
      },
    };
  } catch (err) {
    await modules?.close();
    await admin?.close();
    grpcServer.forceShutdown();
    throw err;
  }
}

/** What goes in the event log from the xDS side. */
function recordXdsEvents(events: EventLog, xds: XdsServer): void {
  xds.events.on((e) => {
    if (e.kind === "connect") events.add("node-connected", `node ${e.node.id}`, `${e.node.id} connected`, { group: e.group, cluster: e.node.cluster });
    else if (e.kind === "disconnect") events.add("node-disconnected", `node ${e.node.id}`, `${e.node.id} disconnected: ${e.reason}`);
    else if (e.kind === "nack") {
      events.add("nack", `node ${e.nack.nodeId}`, e.nack.message, {
        type: e.nack.typeUrl,
        rejectedVersion: e.nack.rejectedVersion,
        keptVersion: e.nack.keptVersion,
        resources: e.nack.resourceNames,
      });
    }
  });
}
