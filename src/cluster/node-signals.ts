/**
 * The signals channel (docs/REPLICAS.md, "Signals from every replica
 * count"): every replica writes what it saw of each of its nodes to
 * `<prefix>/nodes/<replica>/<node>` (the node, the versions it holds and
 * ACKed, its newest attributed NACK and crash signals, numbered), attached
 * to the replica's lease; every replica watches all of them and hands the
 * other replicas' evidence to its health monitor, whose leader decides on
 * the fleet's evidence. The same records are the fleet view: which nodes
 * are connected, and to which replica (rollout membership, status).
 *
 * Writes are coalesced per node (one in flight, then the newest state), so
 * a burst of ACKs is a few puts, not one per ACK. Sizes are bounded.
 */
import type { IKeyValue, Watcher } from "etcd3";
import { type BackgroundReport, runInBackground } from "../background";
import type { AttributedSignal, EvidenceSink, NodeEvidence, VersionOf } from "../health/node-evidence";
import type { HealthSignal } from "../health/signal";
import type { Logger } from "../logger";
import type { NodeInfo } from "../vocabulary/node-info";
import type { EtcdConnection } from "./etcd-connection";

const ROOT = "nodes/";
/** Signals kept per node record (the leader takes each once; older ones it has already). */
export const SIGNALS_PER_NODE = 64;
/** Versions remembered per node record (holds and ACKs each). */
const VERSIONS_PER_NODE = 256;
const EVIDENCE_CHARS = 512;

interface NodeRecord extends NodeEvidence {
  readonly replica: string;
  readonly node: NodeInfo;
}

interface Local {
  node: NodeInfo;
  holds: Map<string, VersionOf>;
  acked: Map<string, VersionOf>;
  signals: AttributedSignal[];
  writing: boolean;
  dirty: boolean;
  gone: boolean;
}

export interface RemoteEvidenceTarget {
  importRemote(nodeId: string, e: NodeEvidence): void;
  forgetRemote(nodeId: string): void;
}

export class NodeSignals implements EvidenceSink {
  private readonly local = new Map<string, Local>();
  /** Other replicas' records by key. */
  private readonly remote = new Map<string, NodeRecord>();
  /** Numbers signals; starts from the real time so a restarted replica never reuses one the leader has taken. */
  private seq = Date.now() * 1000;
  private watcher: Watcher | undefined;
  private target: RemoteEvidenceTarget | undefined;

  constructor(
    private readonly conn: EtcdConnection,
    private readonly nodeInfo: (id: string) => NodeInfo | undefined,
    private readonly logger: Logger,
    private readonly bg: BackgroundReport,
  ) {
    // A new lease lost the old records with the old one: write every node again.
    conn.onLease((lease) => {
      if (lease !== undefined) for (const id of this.local.keys()) this.write(id);
    });
  }

  private get replica(): string {
    return this.conn.options.replicaId;
  }

  /** Reads the other replicas' records and watches them; their evidence goes to `target`. */
  async start(target: RemoteEvidenceTarget): Promise<void> {
    this.target = target;
    const r = await this.conn.ns.getAll().prefix(ROOT).exec();
    for (const kv of r.kvs) this.put(kv);
    this.watcher = await this.conn.ns
      .watch()
      .prefix(ROOT)
      .startRevision(String(BigInt(r.header.revision) + 1n))
      .create();
    this.watcher.on("put", (kv) => this.put(kv));
    this.watcher.on("delete", (kv) => this.delete(kv));
    this.watcher.on("error", (err) => this.conn.report(err));
  }

  /** A node connected to this replica: it is in the fleet from now on, before any evidence. */
  connected(node: NodeInfo): void {
    this.entry(node.id);
  }

  holds(nodeId: string, filter: string, key: string): void {
    const e = this.entry(nodeId);
    if (!e) return;
    e.holds.set(`${filter}|${key}`, [filter, key]);
    bound(e.holds);
    this.write(nodeId);
  }

  acked(nodeId: string, filter: string, key: string): void {
    const e = this.entry(nodeId);
    if (!e) return;
    e.acked.set(`${filter}|${key}`, [filter, key]);
    bound(e.acked);
    this.write(nodeId);
  }

  signal(nodeId: string, filter: string, key: string, signal: HealthSignal): void {
    const e = this.entry(nodeId);
    if (!e) return;
    // An earlier ACK of this node proves nothing about what it runs now (VersionHealth.record).
    if (signal.kind === "nack") e.acked.delete(`${filter}|${key}`);
    const evidence = signal.evidence.length > EVIDENCE_CHARS ? `${signal.evidence.slice(0, EVIDENCE_CHARS)}…` : signal.evidence;
    e.signals.push({ seq: ++this.seq, filter, key, signal: { ...signal, evidence } });
    if (e.signals.length > SIGNALS_PER_NODE) e.signals.shift();
    this.write(nodeId);
  }

  forget(nodeId: string): void {
    const e = this.local.get(nodeId);
    if (!e) return;
    e.gone = true;
    this.local.delete(nodeId);
    runInBackground(
      this.conn.ns
        .delete()
        .key(this.keyOf(nodeId))
        .exec()
        .then(() => undefined),
      `removing node ${nodeId} from the cluster's records`,
      this.bg,
    );
  }

  /** Every node of the fleet: this replica's, then the others' (a node on two replicas counts once). */
  fleet(local: readonly NodeInfo[]): NodeInfo[] {
    const seen = new Set(local.map((n) => n.id));
    const out = [...local];
    for (const r of this.remote.values()) {
      if (seen.has(r.node.id)) continue;
      seen.add(r.node.id);
      out.push(r.node);
    }
    return out;
  }

  /** Node id -> replicas it is connected to (this replica's and the others'). */
  placement(local: readonly NodeInfo[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const add = (node: string, replica: string) => out.set(node, [...(out.get(node) ?? []), replica]);
    for (const n of local) add(n.id, this.replica);
    for (const r of this.remote.values()) add(r.node.id, r.replica);
    return out;
  }

  close(): void {
    this.watcher?.cancel().catch(() => {});
  }

  private entry(nodeId: string): Local | undefined {
    let e = this.local.get(nodeId);
    if (e) return e;
    const node = this.nodeInfo(nodeId);
    if (!node) return undefined;
    e = { node, holds: new Map(), acked: new Map(), signals: [], writing: false, dirty: false, gone: false };
    this.local.set(nodeId, e);
    this.write(nodeId);
    return e;
  }

  private keyOf(nodeId: string, replica = this.replica): string {
    return `${ROOT}${encodeURIComponent(replica)}/${encodeURIComponent(nodeId)}`;
  }

  /** Writes the node's record now, or after the write in flight (coalesced). */
  private write(nodeId: string): void {
    const e = this.local.get(nodeId);
    if (!e) return;
    if (e.writing) {
      e.dirty = true;
      return;
    }
    const lease = this.conn.currentLease;
    if (lease === undefined) return;
    e.writing = true;
    e.dirty = false;
    const record: NodeRecord = { replica: this.replica, node: e.node, holds: [...e.holds.values()], acked: [...e.acked.values()], signals: [...e.signals] };
    // Not written: written again when the lease is re-granted (or the next evidence comes).
    const put = this.conn
      .putOnLease(this.keyOf(nodeId), JSON.stringify(record), lease, `node ${nodeId}'s record`)
      .finally(() => {
        e.writing = false;
        if (e.dirty && !e.gone) this.write(nodeId);
      });
    runInBackground(put, `writing node ${nodeId}'s record to etcd`, this.bg);
  }

  private put(kv: IKeyValue): void {
    const key = kv.key.toString();
    if (key.startsWith(`${ROOT}${encodeURIComponent(this.replica)}/`)) return;
    let r: NodeRecord;
    try {
      r = JSON.parse(kv.value.toString()) as NodeRecord;
    } catch {
      return;
    }
    if (typeof r?.replica !== "string" || typeof r.node?.id !== "string" || !Array.isArray(r.holds) || !Array.isArray(r.acked) || !Array.isArray(r.signals)) {
      this.logger.warn("ignoring a malformed node record in etcd", { key });
      return;
    }
    this.remote.set(key, r);
    this.target?.importRemote(r.node.id, r);
  }

  private delete(kv: IKeyValue): void {
    const key = kv.key.toString();
    const r = this.remote.get(key);
    if (!r) return;
    this.remote.delete(key);
    // Still connected through another replica: keep it.
    if ([...this.remote.values()].some((o) => o.node.id === r.node.id)) return;
    this.target?.forgetRemote(r.node.id);
  }
}

function bound(m: Map<string, unknown>): void {
  while (m.size > VERSIONS_PER_NODE) m.delete(m.keys().next().value as string);
}
