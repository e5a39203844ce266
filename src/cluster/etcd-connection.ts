/**
 * The connection to etcd and this replica's lease (docs/REPLICAS.md). One
 * client per replica, one lease per replica: the leader key, the replica's
 * record and its nodes' evidence are all attached to it, so a replica that
 * dies (or is cut off from etcd longer than the lease TTL) disappears from
 * the cluster by itself, and its leadership with it.
 *
 * The lease is counted by etcd in real time, so its bookkeeping here is in
 * real time too (not the control plane's injectable clock): a leader that
 * has not had a keepalive confirmed for most of the TTL stops deciding
 * before etcd could give its lease away.
 */
import type { Etcd3, IOptions, Lease, Namespace } from "etcd3";
import { type BackgroundReport, runInBackground } from "../background";
import { WasmxdsError, errorMessage } from "../errors";
import { readFlagFile } from "../fs/flag-file";
import type { Logger } from "../logger";

export interface ClusterOptions {
  /** `--etcd-endpoints`: client URLs (http:// or https://). */
  readonly endpoints: readonly string[];
  /** `--etcd-prefix`: every key of this cluster lives under it (default /wasmxds). */
  readonly prefix: string;
  /** `--etcd-ca`, `--etcd-cert`, `--etcd-key`: etcdctl's --cacert, --cert, --key. */
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** `--replica-id` (default: host name and pid). */
  readonly replicaId: string;
  /** `--etcd-lease-ttl` in seconds (default 10): a dead leader is replaced within it. */
  readonly leaseTtlSec: number;
}

export const DEFAULT_ETCD_PREFIX = "/wasmxds";
export const DEFAULT_LEASE_TTL_SEC = 10;

/** Confirmed keepalives older than this share of the TTL no longer prove the lease alive. */
const TRUSTED_SHARE = 0.75;

export class EtcdConnection {
  /** Keys under `<prefix>/`. */
  readonly ns: Namespace;
  private lease: Lease | undefined;
  private leaseId: string | undefined;
  /** Real time (ms) when the newest confirmed keepalive (or the grant) was sent. */
  private confirmedAt = 0;
  private firedAt = 0;
  private closed = false;
  /** One re-grant loop at a time. */
  private regranting = false;
  private readonly leaseListeners: Array<(leaseId: string | undefined) => void> = [];
  /** The last etcd failure, for status and /healthz (undefined while etcd answers). */
  lastError: string | undefined;

  /**
   * A connection to the cluster's etcd. etcd3 (and the gRPC stack and protos
   * it loads, about 190 ms) is imported here, so a `serve` without
   * `--etcd-endpoints` never pays for it.
   */
  static async open(options: ClusterOptions, logger: Logger, bg: BackgroundReport): Promise<EtcdConnection> {
    const { Etcd3 } = await import("etcd3");
    return new EtcdConnection(new Etcd3(clientOptions(options)), options, logger, bg);
  }

  private constructor(
    readonly client: Etcd3,
    readonly options: ClusterOptions,
    private readonly logger: Logger,
    private readonly bg: BackgroundReport,
  ) {
    this.ns = this.client.namespace(`${options.prefix.replace(/\/+$/, "")}/`);
  }

  /** Where the cluster lives, for messages. */
  get where(): string {
    return `etcd ${this.options.endpoints.join(",")} ${this.options.prefix}`;
  }

  /** Grants the replica's lease; rejects with ETCD_UNAVAILABLE when etcd does not answer. */
  async start(): Promise<void> {
    await this.grant();
  }

  /** The replica's lease id while it is alive as far as this process knows. */
  get currentLease(): string | undefined {
    return this.leaseAlive() ? this.leaseId : undefined;
  }

  /** The replica's lease id as granted (etcd decides whether it still lives), for requests that etcd checks itself. */
  get grantedLease(): string | undefined {
    return this.leaseId;
  }

  /** Whether a keepalive was confirmed recently enough that etcd cannot have expired the lease. */
  leaseAlive(): boolean {
    return this.leaseId !== undefined && Date.now() - this.confirmedAt < this.options.leaseTtlSec * 1000 * TRUSTED_SHARE;
  }

  /** Called with the new lease after every (re-)grant, and undefined when it is lost. */
  onLease(listener: (leaseId: string | undefined) => void): void {
    this.leaseListeners.push(listener);
  }

  /** Marks etcd reachable or not (every component reports its requests' outcome). */
  report(err: unknown): void {
    const message = err === undefined ? undefined : errorMessage(err);
    if (message !== undefined && this.lastError === undefined) this.logger.warn("etcd unreachable: decisions pause, serving goes on", { etcd: this.where, error: message });
    if (message === undefined && this.lastError !== undefined) this.logger.info("etcd reachable again", { etcd: this.where });
    this.lastError = message;
  }

  /**
   * Puts `value` at `key` on `lease` (the record goes with the lease), telling
   * reachability either way; false, logged at debug as `what`, when etcd is
   * away or refuses (the caller writes again on its next change or lease).
   */
  async putOnLease(key: string, value: string, lease: string, what: string): Promise<boolean> {
    try {
      await this.ns.put(key).value(value).lease(lease).exec();
      this.report(undefined);
      return true;
    } catch (err) {
      this.report(err);
      this.logger.debug(`${what} not written to etcd`, { key, error: errorMessage(err) });
      return false;
    }
  }

  private async grant(): Promise<void> {
    const lease = this.client.lease(this.options.leaseTtlSec);
    this.lease = lease;
    lease.on("keepaliveFired", () => {
      this.firedAt = Date.now();
    });
    lease.on("keepaliveSucceeded", () => {
      this.confirmedAt = this.firedAt;
      this.report(undefined);
    });
    lease.on("keepaliveFailed", (res) => this.report(new Error(`lease keepalive failed: ${JSON.stringify(res)}`)));
    lease.on("lost", (err) => {
      // A lease whose grant failed is "lost" too: the loop that asked for it goes on (one loop at a time;
      // each failed grant starting another loop multiplied them until the process ran out of memory).
      if (this.closed || this.lease !== lease || this.regranting) return;
      this.report(err);
      this.logger.warn("replica lease lost: leadership and this replica's records are gone; asking for a new lease", { etcd: this.where, error: errorMessage(err) });
      this.leaseId = undefined;
      for (const l of this.leaseListeners) l(undefined);
      runInBackground(this.regrant(), "re-granting the replica lease", this.bg);
    });
    const sent = Date.now();
    try {
      this.leaseId = await lease.grant();
    } catch (err) {
      // Its keepalive timers and listeners go with it.
      lease.release();
      this.report(err);
      throw new WasmxdsError("ETCD_UNAVAILABLE", `${this.where}: cannot get a lease: ${errorMessage(err)}`, { cause: err });
    }
    this.confirmedAt = sent;
    this.report(undefined);
    for (const l of this.leaseListeners) l(this.leaseId);
  }

  /** Retries the grant (real time: etcd is away) until it works or the connection closes. */
  private async regrant(): Promise<void> {
    if (this.regranting) return;
    this.regranting = true;
    let delay = 200;
    try {
      while (!this.closed) {
        try {
          await this.grant();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 2000);
        }
      }
    } finally {
      this.regranting = false;
    }
  }

  /** Revokes the lease (the replica leaves the cluster at once) and closes the client. */
  async close(): Promise<void> {
    this.closed = true;
    try {
      await this.lease?.revoke();
    } catch (err) {
      this.logger.debug("lease revoke failed at close (it expires by itself)", { error: errorMessage(err) });
    }
    this.client.close();
  }

  /** Stops without revoking, like a process killed: the lease expires after its TTL (tests). */
  crash(): void {
    this.closed = true;
    this.lease?.release();
    this.client.close();
  }
}

function clientOptions(o: ClusterOptions): IOptions {
  const read = (file: string | undefined, flag: string): Buffer | undefined => (file === undefined ? undefined : readFlagFile(file, flag, "USAGE"));
  const ca = read(o.caFile, "--etcd-ca");
  const cert = read(o.certFile, "--etcd-cert");
  const key = read(o.keyFile, "--etcd-key");
  if ((cert === undefined) !== (key === undefined)) throw new WasmxdsError("USAGE", "--etcd-cert and --etcd-key go together: give both or neither");
  const tls = ca !== undefined || cert !== undefined;
  if (tls && o.endpoints.some((e) => e.startsWith("http://"))) throw new WasmxdsError("USAGE", "--etcd-ca/--etcd-cert are for https:// endpoints; an http:// endpoint would not use them");
  return {
    hosts: [...o.endpoints],
    dialTimeout: 3000,
    // gRPC's reconnect backoff grows to 120 s by default: after an etcd outage of a minute a replica
    // waited up to two more before trying again (leadership and decisions paused meanwhile). Cap it.
    grpcOptions: { "grpc.initial_reconnect_backoff_ms": 200, "grpc.max_reconnect_backoff_ms": 2000 },
    // Without --etcd-ca, https endpoints are checked against the system's roots (grpc's createSsl with no roots).
    ...(tls && { credentials: { rootCertificate: ca as Buffer, ...(cert && key && { certChain: cert, privateKey: key }) } }),
  };
}
