/** Starts an XdsServer on a real socket (port 0) for tests. */
import * as grpc from "@grpc/grpc-js";
import { SnapshotCache, type SnapshotCacheOptions } from "../../src/cache/snapshot-cache";
import { type BoundGrpcServer, bindGrpcServer, GRPC_SERVER_OPTIONS } from "../../src/net/grpc-server";
import { memoryLogger } from "../../src/logger";
import { XdsServer } from "../../src/xds/xds-server";
import type { StreamLimits } from "../../src/xds/sotw-stream";

export interface Harness {
  cache: SnapshotCache;
  xds: XdsServer;
  bound: BoundGrpcServer;
  port: number;
  logger: ReturnType<typeof memoryLogger>;
  close(): Promise<void>;
}

export async function startHarness(opts: SnapshotCacheOptions & { limits?: Partial<StreamLimits> } = {}): Promise<Harness> {
  const logger = memoryLogger();
  const cache = new SnapshotCache({ logger, ...opts });
  const xds = new XdsServer({ cache, logger, limits: opts.limits });
  const server = new grpc.Server(GRPC_SERVER_OPTIONS);
  xds.register(server);
  const bound = await bindGrpcServer(server, "127.0.0.1", 0);
  return {
    cache,
    xds,
    bound,
    port: bound.port,
    logger,
    close: async () => {
      xds.closeAllStreams();
      await bound.close(500);
    },
  };
}
