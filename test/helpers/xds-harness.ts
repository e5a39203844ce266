/**
 * Starts an XdsServer over a SnapshotCache on a real socket (port 0) for
 * tests of the xDS layer alone (the whole control plane: app.ts). Other
 * services can share the gRPC server, as on the xDS port in production.
 *
 * With WASMXDS_TEST_WORKERS=N (scripts/test-workers.mjs) the same streams
 * run in N worker processes over the same cache (src/xds/workers/), so the
 * protocol tests check the stream rules there too; a test that gives its
 * own clock or TLS credentials stays in this process (a worker runs on the
 * real clock and reads the certificates through the main process).
 */
import * as grpc from "@grpc/grpc-js";
import { SnapshotCache, type SnapshotCacheOptions } from "../../src/cache/snapshot-cache";
import { type BoundGrpcServer, bindGrpcServer, GRPC_SERVER_OPTIONS } from "../../src/net/grpc-server";
import { memoryLogger } from "../../src/logger";
import type { NodeIdentityMode } from "../../src/net/node-identity";
import type { Clock } from "../../src/time/clock";
import { XdsServer } from "../../src/xds/xds-server";
import type { StreamLimits } from "../../src/xds/sotw-stream";
import { WorkerPool } from "../../src/xds/workers/pool";
import type { XdsStreams } from "../../src/xds/xds-streams";
import { TEST_WORKERS } from "./app";

export interface Harness {
  cache: SnapshotCache;
  xds: XdsStreams;
  /** The gRPC server in this process; undefined when the streams run in workers. */
  bound: BoundGrpcServer | undefined;
  port: number;
  logger: ReturnType<typeof memoryLogger>;
  /** Ends every stream and closes, cutting connections still open after `graceMs` (default 500). */
  close(graceMs?: number): Promise<void>;
}

export interface HarnessOptions extends SnapshotCacheOptions {
  readonly limits?: Partial<StreamLimits>;
  readonly clock?: Clock;
  readonly logger?: ReturnType<typeof memoryLogger>;
  /** Registers more services on the same gRPC server before it binds (with workers: client-streaming ones, forwarded). */
  readonly register?: (server: Pick<grpc.Server, "addService">) => void;
  /** TLS or mTLS on the port (default plaintext). */
  readonly credentials?: grpc.ServerCredentials;
  /** The client certificate field a node id must equal (default off). */
  readonly nodeIdentity?: NodeIdentityMode;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const logger = opts.logger ?? memoryLogger();
  const { limits, clock, register, credentials, nodeIdentity, ...cacheOptions } = opts;
  const cache = new SnapshotCache({ ...cacheOptions, logger });
  if (TEST_WORKERS > 0 && !clock && !credentials) {
    const pool = new WorkerPool({ workers: TEST_WORKERS, cache, host: "127.0.0.1", port: 0, maxConnectionsPerAddress: 0, logger, ...(limits && { limits }), ...(nodeIdentity && { nodeIdentity }) });
    register?.(pool.bridge);
    const port = await pool.start();
    return {
      cache,
      xds: pool.streams,
      bound: undefined,
      port,
      logger,
      close: (graceMs = 500) => pool.close(graceMs),
    };
  }
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
