/**
 * The one place where the parts are wired together: snapshot cache, ADS
 * server, module store and server, the publisher that turns the config
 * folder into snapshots, the pre-flight check, the watcher, the health
 * monitor with its persisted state, and the admin API.
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { type AdminAccess, assertAdminExposure } from "./admin/admin-auth";
import { AdminRouter, startAdminServer } from "./admin/admin-server";
import { addCoreRoutes } from "./admin/core-routes";
import { addHealthRoutes } from "./admin/health-routes";
import { createMetricsRegistry } from "./admin/metrics";
import { addRolloutRoutes } from "./admin/rollout-routes";
import { type BackgroundReport, runInBackground } from "./background";
import type { SnapshotCache } from "./cache/snapshot-cache";
import { addExplainRoutes } from "./admin/explain-routes";
import { addFleetRoutes } from "./admin/fleet-routes";
import { addConsoleRoutes } from "./admin/console/console-routes";
import { EventStreams, addEventStreamRoute } from "./admin/event-stream";
import { Cluster, type ClusterOptions } from "./cluster";
import { ServingPipeline } from "./control/serving-pipeline";
import { Emitter } from "./emitter";
import { WasmxdsError } from "./errors";
import { EventLog } from "./events/event-log";
import { recordCheck, recordPublisherEvents } from "./control/event-recording";
import { recordXdsEvents } from "./xds/event-recording";
import { ModuleChecks } from "./control/module-checks";
import { settingsOf } from "./config/filter-version";
import type { ServedFilter } from "./config/filter-version";
import type { CheckRecord } from "./control/module-checks";
import type { ModuleChecker, PublishResult, Publisher, PublisherEvent } from "./control/publisher";
import { FilterVersions, type StateReference } from "./health/filter-versions";
import { CacheMisses } from "./health/cache-miss";
import { HealthMonitor } from "./health/monitor";
import { AccessLogIngest } from "./health/access-log-service";
import { adminAddressResolver } from "./health/admin-address";
import { AdminStatsPoller } from "./health/admin-poller";
import { MetricsServiceIngest } from "./health/metrics-service";
import { PushAnalysis } from "./health/push-analysis";
import { TrafficCounts } from "./health/traffic-counts";
import { HealthVersionSelection } from "./health/select-version";
import { SignalHub } from "./health/signal";
import { StateStore } from "./health/state-store";
import { alwaysLeader } from "./health/leadership";
import type { NodeInfo } from "./vocabulary/node-info";
import { DEFAULT_MAX_MODULE_BYTES } from "./vocabulary/module";
import type { Logger } from "./logger";
import { type Clock, realClock } from "./time/clock";
import { LogLimiter } from "./log-limiter";
import { bindGrpcServer, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, GRPC_SERVER_OPTIONS } from "./net/grpc-server";
import { CertificateFiles, type GrpcTlsOptions, tlsServerCredentials } from "./net/grpc-tls";
import type { NodeIdentityMode } from "./net/node-identity";
import { type HostPort, formatHostPort } from "./net/host-port";
import type { ListeningHttp } from "./net/http-listen";
import type { ChangeBatch } from "./watch/folder-watcher";
import { FolderWatcher } from "./watch/folder-watcher";
import { type ModuleFetch, type ModuleServer, startModuleServer } from "./wasm/module-server";
import { modulesTlsFor } from "./wasm/modules-tls";
import type { ModuleServerAddress } from "./resources";
import { ModuleStore } from "./wasm/module-store";
import { warmPreflightWorker } from "./wasm/preflight";
import { RemoteModuleResolver } from "./wasm/remote-fetch";
import { OciResolver } from "./wasm/oci";
import { OciTagPoll } from "./control/oci-tag-poll";
import { addOciRoutes } from "./admin/oci-routes";
import { RolloutController } from "./rollout/controller";
import type { XdsEvent } from "./xds/events";
import type { StreamLimits } from "./xds/limits";
import { XdsServer } from "./xds/xds-server";
import type { XdsStreams } from "./xds/xds-streams";
import { WorkerPool } from "./xds/workers/pool";

export const DEFAULT_ADDRESSES = {
  xds: "127.0.0.1:18000",
  modules: "127.0.0.1:18002",
  admin: "127.0.0.1:18003",
} as const;

/** The state folder inside the config folder (default `--state-dir`); never watched. */
export const STATE_DIR_NAME = ".wasmxds";

export interface WasmxdsOptions {
  readonly configDir: string;
  readonly xdsAddress: HostPort;
  readonly modulesAddress: HostPort;
  /** Admin HTTP API; null disables it. */
  readonly adminAddress: HostPort | null;
  /** Who may call the admin API: token, `--admin-auth`, `--admin-insecure` (admin/admin-auth.ts; SECURITY.md). */
  readonly adminAccess?: AdminAccess;
  /** Where last-good versions, quarantines and modules persist; default `<config>/.wasmxds`; null keeps them in memory. */
  readonly stateDir?: string | null;
  readonly watch: boolean;
  readonly logger: Logger;
  /** Told of every check, publish and xDS event (`wasmxds dev` hands in its terminal output, cli/dev-output.ts). */
  readonly observer?: WasmxdsObserver;
  /** The `dev` loop: rollout plans push at once (one 100% step), and smoke tests default to on. */
  readonly dev?: boolean;
  /** Smoke-test modules whose filter leaves smokeTest unset (default: on with dev). */
  readonly smokeByDefault?: boolean;
  /** Replaces the V8 pre-flight check (tests only). */
  readonly checkModule?: ModuleChecker;
  /** Watcher tuning (tests and benchmarks). */
  readonly watchTiming?: { readonly stabilityMs?: number; readonly debounceMs?: number };
  /** Called with every settled batch of file changes (benchmarks measure from it). */
  readonly onWatchBatch?: (batch: ChangeBatch) => void;
  /** How often node admin endpoints are polled for stats (default 5 s). */
  readonly statsPullIntervalMs?: number;
  /** The control plane's clock (default: the process clock); tests pass a FakeClock. */
  readonly clock?: Clock;
  /** How long shutdown waits for open streams before closing every connection (default 5 s; `--shutdown-grace`). */
  readonly shutdownGraceMs?: number;
  /** What one xDS peer may ask (docs/RELIABILITY.md, "Peers"); defaults in xds/limits.ts. */
  readonly streamLimits?: Partial<StreamLimits>;
  /** `--allow-empty`: publish versions that remove every listener or cluster, or most (control/removal-guard.ts). */
  readonly allowEmpty?: boolean;
  /** How often the health monitor evaluates and the rollout controller ticks, on `clock` (tests; default 1 s and 500 ms). */
  readonly healthTiming?: { readonly evaluateEveryMs?: number };
  /** TLS on the gRPC port (`--tls-cert`, `--tls-key`, `--client-ca`; net/grpc-tls.ts); unset: plaintext. */
  readonly tls?: GrpcTlsOptions;
  /** `--node-identity`: the certificate field a node id must equal (net/node-identity.ts; default off). */
  readonly nodeIdentity?: NodeIdentityMode;
  /** `--etcd-endpoints` and friends: one of several replicas with shared state in etcd (docs/REPLICAS.md); unset: one process. */
  readonly cluster?: ClusterOptions;
  /** Connections one client address may hold on the gRPC port (`--max-connections-per-address`; default 1000; 0: no limit). */
  readonly maxConnectionsPerAddress?: number;
  /** `--modules-tls`: the module server serves https on the `tls` certificate; `caFile` (`--modules-ca`) is what Envoys verify it with. */
  readonly modulesTls?: { readonly caFile?: string };
  /** oci:// pulls (docs/OCI.md): PEM roots for registries' https (embedding, tests), and how often `--watch` re-checks Always tags (default 60 s, on `clock`). */
  readonly oci?: { readonly ca?: string; readonly pollIntervalMs?: number };
  /**
   * `--workers N`: N processes hold the xDS connections and streams, fed by
   * this one, which keeps every decision (docs/WORKERS.md); 0 or unset: the
   * streams run in this process.
   */
  readonly workers?: number;
}

/** Watches the control plane at work (the `dev` terminal output); every method is optional. */
export interface WasmxdsObserver {
  onCheck?(record: CheckRecord, cached: boolean): void;
  onPublisher?(event: PublisherEvent): void;
  onXds?(event: XdsEvent): void;
  /** Serving: the config folder, the bound addresses, whether the folder is watched. */
  onReady?(ready: { readonly configDir: string; readonly xds: string; readonly modules: string; readonly watch: boolean }): void;
}

export interface RunningWasmxds {
  readonly xdsAddress: HostPort;
  readonly modulesAddress: HostPort;
  readonly adminAddress: HostPort | null;
  readonly cache: SnapshotCache;
  /** The serving pipeline: what each node receives, and why (explain). */
  readonly pipeline: ServingPipeline;
  readonly events: EventLog;
  /** The xDS streams: in this process, or in the `workers` processes. */
  readonly xds: XdsStreams;
  /** With `workers`: the worker processes (their CPU time, for benchmarks). */
  readonly workers?: WorkerPool;
  readonly store: ModuleStore;
  readonly publisher: Publisher;
  readonly checks: ModuleChecks;
  readonly state: StateStore;
  readonly versions: FilterVersions;
  readonly monitor: HealthMonitor;
  readonly signals: SignalHub;
  readonly rollouts: RolloutController;
  /** Listeners' request and failure counts per filter version (canary analysis). */
  readonly traffic: TrafficCounts;
  /** Cache-miss NACKs and re-pushes of remote code over ECDS. */
  readonly cacheMisses: CacheMisses;
  /** oci:// modules: what each reference resolved to (docs/OCI.md). */
  readonly oci: OciResolver;
  /** With `cluster`: this replica's membership (leadership, shared state, signals). */
  readonly cluster?: Cluster;
  /** Rebuilds from the config folder now. */
  reload(): Promise<PublishResult>;
  /** Ends every stream, waits at most `graceMs` (default shutdownGraceMs) for them to go, then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 5000;

export async function startWasmxds(options: WasmxdsOptions): Promise<RunningWasmxds> {
  const { logger } = options;
  // Before anything listens: an admin API exposed beyond loopback without a token is refused (SECURITY.md).
  if (options.adminAddress) assertAdminExposure(options.adminAddress, options.adminAccess ?? {});
  const clock = options.clock ?? realClock;
  const now = () => clock.now();
  const observer = options.observer;
  const stateDir = options.stateDir === null ? undefined : (options.stateDir ?? join(options.configDir, STATE_DIR_NAME));
  const events = new EventLog(undefined, clock);
  // With replicas the state is etcd's (shared, written by the leader); modules stay in the local store (docs/REPLICAS.md).
  let clusterNode: (id: string) => NodeInfo | undefined = () => undefined;
  const cluster = options.cluster && (await Cluster.start(options.cluster, { logger, events, nodeInfo: (id) => clusterNode(id), startedAt: new Date(now()).toISOString() }));
  const leadership = cluster ? cluster.election : alwaysLeader;
  const state = cluster ? cluster.state : stateDir ? await StateStore.open(stateDir, { logger, now }) : StateStore.inMemory();
  const stateFile = state.file ?? "the in-memory state";
  const store = stateDir ? await ModuleStore.open({ dir: join(stateDir, "modules"), logger }) : new ModuleStore({ logger });
  // What each oci:// reference resolved to, beside the modules, so a restart pulls nothing it already has.
  const oci = await OciResolver.open({
    store,
    clock,
    logger: logger.child({ component: "oci" }),
    ...(stateDir && { indexFile: join(stateDir, "oci-pulls.json") }),
    ...(options.oci?.ca !== undefined && { ca: options.oci.ca }),
  });
  const versions = new FilterVersions(state, logger, now);
  const background = { logger, events };
  for (const repair of state.repairs) events.add("state-repaired", "startup", repair, { state: stateFile });
  const checks = new ModuleChecks({
    clock,
    defaultSmoke: options.smokeByDefault ?? options.dev ?? false,
    logger: logger.child({ component: "preflight" }),
    onCheck: (r, cached) => {
      observer?.onCheck?.(r, cached);
      if (!cached) recordCheck(events, r);
    },
  });
  // Remote code over ECDS: the module server tells the cache-miss tracker of every fetch (health/cache-miss.ts).
  const fetches = new Emitter<ModuleFetch>();
  // TLS first: with --modules-tls the module server serves on the gRPC port's certificate.
  let tls: CertificateFiles | undefined;
  let modules: ModuleServer;
  let moduleServer: ModuleServerAddress;
  try {
    if (options.tls) {
      tls = new CertificateFiles(options.tls, { logger: logger.child({ component: "tls" }), clock, onEvent: (kind, message, details) => events.add(kind, "tls", message, details) });
    }
    const modulesTls = modulesTlsFor(options.modulesTls, tls);
    modules = await startModuleServer({ store, host: options.modulesAddress.host, port: options.modulesAddress.port, logger, onFetch: (f) => fetches.emit(f), ...(modulesTls && { tls: modulesTls.source }) });
    moduleServer = { ...modules.address, ...(modulesTls && { tls: modulesTls.envoy }) };
    if (modulesTls && modulesTls.envoy.trustedCa === undefined) {
      logger.warn("--modules-tls without --modules-ca: Envoys encrypt module fetches but do not verify the module server's certificate (SECURITY.md)");
    }
  } catch (err) {
    tls?.close();
    await state.flush();
    await cluster?.close();
    throw err;
  }
  const grpcServer = new grpc.Server(GRPC_SERVER_OPTIONS);
  // Set once the xDS workers are forked, so a failure after it stops them.
  let poolStarted: WorkerPool | undefined;
  const startWorkers = async (pool: WorkerPool, host: string): Promise<{ host: string; port: number; close(graceMs: number): Promise<void> }> => {
    const port = await pool.start();
    return { host, port, close: (graceMs) => pool.close(graceMs) };
  };
  let watcher: FolderWatcher | undefined;
  let tagPoll: OciTagPoll | undefined;
  let admin: ListeningHttp | undefined;
  const stopping: Array<() => void> = [];
  if (tls) stopping.push(() => tls?.close());
  try {
    if ((options.nodeIdentity ?? "off") !== "off" && !options.tls?.clientCaFile) {
      throw new WasmxdsError("USAGE", `--node-identity ${options.nodeIdentity} needs client certificates: give --tls-cert, --tls-key and --client-ca`);
    }
    const nodeIdentity = options.nodeIdentity ?? "off";
    // The serving pipeline: config -> health selection -> rollout split -> per-group snapshots -> cache (control/serving-pipeline.ts).
    const pipeline = new ServingPipeline({
      configDir: options.configDir,
      store,
      resolver: new RemoteModuleResolver(store, { logger }),
      oci,
      moduleServer,
      logger,
      events,
      checkModule: options.checkModule ?? checks.check,
      ...(options.allowEmpty !== undefined && { allowEmpty: options.allowEmpty }),
      pinnedModules: () => versions.pinned(),
    });
    const publisher = pipeline.publisher;
    const maxConnectionsPerAddress = options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    // The streams run here, or in worker processes fed by this one (`--workers N`, docs/WORKERS.md).
    const workers = options.workers ?? 0;
    const pool =
      workers > 0
        ? new WorkerPool({
            workers,
            cache: pipeline.cache,
            host: options.xdsAddress.host,
            port: options.xdsAddress.port,
            // The workers serve what this process reads (and re-reads, on its clock).
            ...(tls && { tls }),
            nodeIdentity,
            ...(options.streamLimits && { limits: options.streamLimits }),
            maxConnectionsPerAddress,
            logger: logger.child({ component: "xds" }),
            clock,
          })
        : undefined;
    // Their code loads while this process publishes its first version (a failed start stops them: catch below).
    poolStarted = pool;
    pool?.prepare();
    let xds: XdsStreams;
    if (pool) {
      xds = pool.streams;
    } else {
      const server = new XdsServer({
        cache: pipeline.cache,
        logger: logger.child({ component: "xds" }),
        clock,
        ...(options.streamLimits && { limits: options.streamLimits }),
        nodeIdentity,
      });
      server.register(grpcServer);
      xds = server;
    }
    // The push services run here either way; with workers they are forwarded from them.
    const services = pool ? pool.bridge : grpcServer;
    clusterNode = (id) => xds.nodeInfo(id);
    recordXdsEvents(events, xds);
    recordPublisherEvents(events, publisher);
    if (observer?.onXds) xds.events.on((e) => observer.onXds?.(e));
    if (observer?.onPublisher) publisher.events.on((e) => observer.onPublisher?.(e));

    // Envoy's stats: pushed to the metrics service on the xDS port, pulled from
    // admin endpoints named in node metadata, and access logs (docs/HEALTH-SIGNALS.md).
    const signals = new SignalHub();
    // Listeners' request and failure counters, per filter version, for canary analysis (docs/HEALTH.md).
    const traffic = new TrafficCounts({ listeners: () => pipeline.published?.loaded.config.listeners ?? [], nodeVersions: (id) => pipeline.nodeVersions(id) });
    const metricsIngest = new MetricsServiceIngest({ hub: signals, logger: logger.child({ component: "stats" }), clock, now, traffic: traffic.record, nodeIdentity });
    metricsIngest.register(services);
    // TCP failures: Envoy counts none; the access log's failed connections (crashed or closed by the filter) name their listener.
    const accessLogIngest = new AccessLogIngest({
      hub: signals,
      logger: logger.child({ component: "access-log" }),
      clock,
      now,
      closedConnections: (nodeId, listener, failed, at) => traffic.addFailures(nodeId, listener, failed, at),
      nodeIdentity,
    });
    accessLogIngest.register(services);
    const poller = new AdminStatsPoller({
      hub: signals,
      logger: logger.child({ component: "stats-pull" }),
      addressOf: adminAddressResolver(),
      skip: (id) => metricsIngest.isPushing(id),
      traffic: traffic.record,
      clock,
      now,
      ...(options.statsPullIntervalMs !== undefined && { intervalMs: options.statsPullIntervalMs }),
    });
    xds.events.on((e) => {
      if (e.kind === "connect") poller.track(e.node);
      else if (e.kind === "disconnect" && !xds.nodeInfo(e.node.id)) {
        poller.untrack(e.node.id);
        traffic.forget(e.node.id);
      }
    });
    // Created before the first publish, so it counts it.
    const metrics = createMetricsRegistry({ xds, publisher, versions, signals, events });

    // The deciding loops: they read what the pipeline serves and ask it for rebuilds through its queue.
    const misses = new CacheMisses({ nodeVersions: (id) => pipeline.nodeVersions(id), events, logger: logger.child({ component: "remote-code" }), clock });
    fetches.on((f) => misses.fetch(f));
    misses.repushes.on((nodeId) => pipeline.regroup(nodeId));
    const health = new HealthMonitor({
      remoteOverEcds: (name, key) => pipeline.remoteOverEcds(name, key),
      cacheMisses: misses,
      versions,
      policyOf: (name) => pipeline.filter(name)?.health,
      discoveryOf: (name) => pipeline.filter(name)?.discovery,
      nodeVersions: (id) => pipeline.nodeVersions(id),
      listenerFilters: (name) => pipeline.listenerFilters(name),
      connected: (id) => xds.nodeInfo(id) !== undefined,
      republish: () => pipeline.reload(),
      events,
      logger: logger.child({ component: "health" }),
      clock,
      leadership,
      ...(cluster && { evidence: cluster.signals }),
    });
    misses.realNacks.on((nack) => health.nackSignal(nack));
    signals.on((s) => health.onSignal(s));
    xds.events.on((e) => health.onXds(e));
    const rollouts = new RolloutController({
      state,
      versions,
      monitor: health,
      events,
      logger: logger.child({ component: "rollout" }),
      moduleBytes: (sha) => store.get(sha),
      // With replicas, the leader steps rollouts over the whole fleet (every replica's nodes).
      nodes: () => {
        const local = xds.nodes();
        return cluster ? cluster.signals.fleet(local) : local;
      },
      filters: () => pipeline.published?.loaded.config.filters ?? [],
      onChange: () => pipeline.schedule("a rollout change"),
      instant: options.dev ?? false,
      traffic,
      clock,
      leadership,
    });
    xds.events.on((e) => {
      if (e.kind === "disconnect") rollouts.onDisconnect(e.node);
      else if (e.kind === "connect") cluster?.signals.connected(e.node);
    });
    // Canary analysis after a plain push (filters without a rollout plan): new version against the one it replaced.
    const pushAnalysis = new PushAnalysis({ traffic, versions, events, logger: logger.child({ component: "health" }), republish: () => pipeline.reload(), clock, leadership });
    pipeline.connect({
      nodes: xds,
      selection: new HealthVersionSelection({ versions, moduleBytes: (sha) => store.get(sha), stateFile, events, logger }),
      rollouts,
      repush: misses,
      // Track canaries too: a rollout can start without the base snapshot changing.
      onPublished: (published) => {
        health.served(published.served, published.canaries);
        pushAnalysis.served(published.served);
        // Replicas compare their folders with the leader's (cluster.ts reports a difference loudly).
        cluster?.replicas.announceFolder(Object.fromEntries([...published.selections].map(([name, sel]) => [name, sel.candidate.key])));
      },
    });
    stopping.push(
      () => health.stop(),
      () => rollouts.stop(),
      () => pushAnalysis.stop(),
    );

    warnMissingModules([...versions.references(), ...rollouts.references()], (sha) => store.has(sha), stateFile, events, logger);
    // Publish before accepting Envoys, so the first one gets the config at once.
    // A replica lacking a module the shared state names fetches it from another replica first (cluster/module-sync.ts).
    const moduleSync = cluster?.moduleSync(store, DEFAULT_MAX_MODULE_BYTES, moduleServer.tls?.trustedCa);
    const statePinned = () => [...versions.pinned(), ...rollouts.pinned()];
    await moduleSync?.ensure(statePinned());
    const first = await pipeline.reload();
    if (!first.ok) throw first.error;
    if (cluster) {
      // Every replica applies what the leader stores; a new leader re-derives the decisions of the folder's versions.
      cluster.state.onChange((why) => runInBackground(moduleSync!.ensure(statePinned()).then(() => pipeline.schedule(why)), `applying a decision from etcd (${why})`, background));
      cluster.election.onChange((leading) => {
        if (!leading || !pipeline.published) return;
        adoptBaseline(versions, pipeline.published.served, background);
        pipeline.schedule("this replica now leads the cluster");
      });
      await cluster.startSignals(health);
      await cluster.shareTraffic(traffic, clock);
    }
    if (leadership.isLeader()) adoptBaseline(versions, pipeline.published!.served, background);
    health.served(pipeline.published!.served);
    await health.evaluate();
    health.start(options.healthTiming?.evaluateEveryMs);
    rollouts.start(options.healthTiming?.evaluateEveryMs);
    pushAnalysis.start(options.healthTiming?.evaluateEveryMs);
    poller.start();

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
          pipeline.schedule("a file change");
        },
      });
      await watcher.start();
      // pullPolicy: Always tags are re-resolved on an interval too (control/oci-tag-poll.ts).
      tagPoll = new OciTagPoll({ clock, filters: () => pipeline.published?.loaded.config.filters ?? [], schedule: (why) => pipeline.schedule(why), ...(options.oci?.pollIntervalMs !== undefined && { intervalMs: options.oci.pollIntervalMs }) });
      tagPoll.start();
      stopping.push(() => tagPoll?.stop());
    }
    if (options.adminAddress) {
      const router = addCoreRoutes(new AdminRouter(), { xds, publisher, checks, events, versions, monitor: health, metrics, ...(cluster && { healthz: () => cluster.healthz() }) });
      addHealthRoutes(router, { publisher, versions, events });
      addRolloutRoutes(router, { rollouts, publisher, clock });
      addExplainRoutes(router, { xds, pipeline });
      addOciRoutes(router, { oci, publisher });
      addFleetRoutes(router, { xds, pipeline, monitor: health, now: () => clock.now() });
      addEventStreamRoute(router, new EventStreams(events, undefined, clock));
      addConsoleRoutes(router);
      // `--workers`: each worker process, whether it takes connections, and how many it holds (docs/WORKERS.md).
      if (pool) router.add("GET", "/v1/workers", () => ({ json: { workers: pool.workers() } }));
      if (cluster) router.add("GET", "/v1/cluster", () => ({ json: cluster.status(xds.streamStatuses().flatMap((s) => (s.node ? [s.node] : []))) }));
      admin = await startAdminServer(router, options.adminAddress, logger, { ...(options.adminAccess && { access: options.adminAccess }) });
    }
    const connectionWarnings = new LogLimiter(logger, clock);
    stopping.push(() => connectionWarnings.close());
    const bound = pool
      ? await startWorkers(pool, options.xdsAddress.host)
      : await bindGrpcServer(grpcServer, options.xdsAddress.host, options.xdsAddress.port, tls && tlsServerCredentials(tls), {
          maxConnectionsPerAddress,
          logger,
          onRefused: (address, open, limit) =>
            connectionWarnings.warn(`max-connections|${address}`, "refusing a gRPC connection: too many from one address", { peer: address, open, limit }),
        });
    const xdsAddress = { host: bound.host, port: bound.port };
    cluster?.election.setAdmin(admin ? formatHostPort(admin.address) : null);
    cluster?.replicas.announce({ xds: formatHostPort(xdsAddress), admin: admin ? formatHostPort(admin.address) : null, modules: formatHostPort(modules.address), modulesTls: moduleServer.tls !== undefined });
    logger.info("wasmxds ready", {
      xds: formatHostPort(xdsAddress),
      // The gRPC port's transport: plaintext, TLS, or mTLS (client certificates required), and the node identity check.
      xdsTls: tls ? (tls.requiresClientCertificate ? "mtls" : "tls") : "off",
      nodeIdentity,
      workers,
      modules: formatHostPort(modules.address),
      admin: admin ? formatHostPort(admin.address) : "off",
      config: options.configDir,
      state: stateDir ?? "memory",
      version: first.snapshot.version,
      watch: options.watch,
    });
    observer?.onReady?.({ configDir: options.configDir, xds: formatHostPort(xdsAddress), modules: formatHostPort(modules.address), watch: options.watch });
    const adm = admin;
    const w = watcher;
    return {
      xdsAddress,
      modulesAddress: modules.address,
      adminAddress: adm?.address ?? null,
      cache: pipeline.cache,
      events,
      xds,
      store,
      pipeline,
      publisher,
      checks,
      state,
      versions,
      monitor: health,
      signals,
      rollouts,
      traffic,
      cacheMisses: misses,
      oci,
      ...(cluster && { cluster }),
      ...(pool && { workers: pool }),
      reload: () => pipeline.reload(),
      close: async (graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS) => {
        health.stop();
        rollouts.stop();
        pushAnalysis.stop();
        tagPoll?.stop();
        await w?.close();
        poller.stop();
        // Every stream is ended with OK; one whose client does not read is cut when the grace runs out.
        xds.closeAllStreams();
        metricsIngest.closeAll();
        accessLogIngest.closeAll();
        tls?.close();
        await Promise.all([bound.close(graceMs), modules.close(), adm?.close()]);
        await state.flush();
        await cluster?.close();
      },
    };
  } catch (err) {
    await state.flush();
    await cluster?.close();
    for (const stop of stopping) stop();
    await watcher?.close();
    await modules.close();
    await admin?.close();
    grpcServer.forceShutdown();
    await poolStarted?.close(0);
    throw err;
  }
}

/**
 * With no state yet, the versions served first are the baseline: they are
 * what the operator deployed, they passed the pre-flight check, and there
 * is nothing better to fall back to. Later versions earn known-good status
 * by being served without a breach (docs/CONFIG.md, "health").
 */
function adoptBaseline(versions: FilterVersions, served: ReadonlyMap<string, ServedFilter>, background: BackgroundReport): void {
  for (const [name, s] of served) {
    if (!versions.lastGood(name) && !versions.isQuarantined(name, s.key)) {
      const marked = versions.markGood(name, { sha256: s.module.sha256, key: s.key, settings: settingsOf(s.filter) });
      runInBackground(marked.written, `saving the baseline version of "${name}" to the state file`, background);
    }
  }
}

/**
 * Modules the persisted state names that the module store does not hold
 * (deleted by hand, a corrupt file skipped at load, or dropped by an older
 * wasmxds before they were pinned): a warning each, naming the filter, the
 * sha256 and the state file. The start goes on; selection skips them.
 */
function warnMissingModules(refs: readonly StateReference[], has: (sha256: string) => boolean, stateFile: string, events: EventLog, logger: Logger): void {
  for (const r of refs) {
    if (has(r.sha256)) continue;
    const message = `${stateFile}: ${r.path}: module ${r.sha256} of filter "${r.filter}" is not in the module store; wasmxds serves the best version it still has`;
    logger.warn(message, { filter: r.filter, sha256: r.sha256, state: stateFile });
    events.add("state-module-missing", "startup", message, { filter: r.filter, sha256: r.sha256, state: stateFile });
  }
}
