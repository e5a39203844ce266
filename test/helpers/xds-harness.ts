/**
 * Starts an XdsServer over a SnapshotCache on a real socket (port 0) for
 * tests of the xDS layer alone (the whole control plane: app.ts). Other
 * services can share the gRPC server, as on the xDS port in production.
 */
import * as grpc from "@grpc/grpc-js";
import { SnapshotCache, type SnapshotCacheOptions } from "../../src/cache/snapshot-cache";
import { type BoundGrpcServer, bindGrpcServer, GRPC_SERVER_OPTIONS } from "../../src/net/grpc-server";
import { memoryLogger } from "../../src/logger";
import type { NodeIdentityMode } from "../../src/net/node-identity";
import type { Clock } from "../../src/time/clock";
import { XdsServer } from "../../src/xds/xds-server";
import type { StreamLimits } from "../../src/xds/sotw-stream";

export interface Harness {
  cache: SnapshotCache;
  xds: XdsServer;
  bound: BoundGrpcServer;
  port: number;
  logger: ReturnType<typeof memoryLogger>;
  /** Ends every stream and closes, cutting connections still open after `graceMs` (default 500). */
  close(graceMs?: number): Promise<void>;
}

export interface HarnessOptions extends SnapshotCacheOptions {
  readonly limits?: Partial<StreamLimits>;
  readonly clock?: Clock;
  readonly logger?: ReturnType<typeof memoryLogger>;
  /** Registers more services on the same gRPC server before it binds. */
  readonly register?: (server: grpc.Server) => void;
  /** TLS or mTLS on the port (default plaintext). */
  readonly credentials?: grpc.ServerCredentials;
  /** The client certificate field a node id must equal (default off). */
  readonly nodeIdentity?: NodeIdentityMode;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const logger = opts.logger ?? memoryLogger();
  const { limits, clock, register, credentials, nodeIdentity, ...cacheOptions } = opts;
  const cache = new SnapshotCache({ ...cacheOptions, logger });
  const xds = new XdsServer({ cache, logger, limits, clock, ...(nodeIdentity && { nodeIdentity }) });
  const server = new grpc.Server(GRPC_SERVER_OPTIONS);
  xds.register(server);
  register?.(server);
  const bound = await bindGrpcServer(server, "127.0.0.1", 0, credentials);
  return {
    cache,
    xds,
    bound,
    port: bound.port,
    logger,
    close: async (graceMs = 500) => {
      xds.closeAllStreams();
      await bound.close(graceMs);
    },
  };
}
