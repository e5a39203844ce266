/**
 * The one place where the parts are wired together: snapshot cache, ADS
 * server, module store and server, and the publisher that turns the config
 * folder into snapshots.
 */
import * as grpc from "@grpc/grpc-js";
import { SnapshotCache } from "./cache/snapshot-cache";
import { Publisher, type ModuleChecker, type PublishResult } from "./control/publisher";
import type { Logger } from "./logger";
import type { Terminal } from "./cli/output";
import { bindGrpcServer, GRPC_SERVER_OPTIONS } from "./net/grpc-server";
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
  readonly watch: boolean;
  readonly logger: Logger;
  /** Set by `wasmxds dev`: human-readable event lines on this terminal. */
  readonly devOutput?: Terminal;
  readonly checkModule?: ModuleChecker;
}

export interface RunningWasmxds {
  readonly xdsAddress: HostPort;
  readonly modulesAddress: HostPort;
  readonly cache: SnapshotCache;
  readonly xds: XdsServer;
  readonly store: ModuleStore;
  readonly publisher: Publisher;
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

  const grpcServer = new grpc.Server(GRPC_SERVER_OPTIONS);
  xds.register(grpcServer);
  let modules: ModuleServer | undefined;
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
      checkModule: options.checkModule,
    });
    // Publish before accepting Envoys, so the first one gets the config at once.
    const first = await publisher.reload();
    if (!first.ok) throw first.error;
    bound = await bindGrpcServer(grpcServer, options.xdsAddress.host, options.xdsAddress.port);
    const xdsAddress = { host: bound.host, port: bound.port };
    logger.info("wasmxds ready", {
      xds: formatHostPort(xdsAddress),
      modules: formatHostPort(modules.address),
      config: options.configDir,
      version: first.snapshot.version,
    });
    const ms = modules;
    const b = bound;
    return {
      xdsAddress,
      modulesAddress: ms.address,
      cache,
      xds,
      store,
      publisher,
      reload: () => publisher.reload(),
      close: async () => {
        xds.closeAllStreams();
        await Promise.all([b.close(), ms.close()]);
      },
    };
  } catch (err) {
    await modules?.close();
    grpcServer.forceShutdown();
    throw err;
  }
}
