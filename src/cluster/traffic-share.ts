/**
 * Traffic counts between replicas (docs/REPLICAS.md, "Signals from every
 * replica count"). Canary analysis compares a candidate's failed requests
 * with the stable version's; each replica counts only the stats of its own
 * nodes, so on its own a leader whose canaries sit on another replica saw
 * no traffic and judged nothing. Every replica writes what it counted to
 * `<prefix>/traffic/<replica>` (attached to its lease) and adds what the
 * others wrote to its own counts, so whichever replica leads, now or after
 * a failover, judges the whole fleet's traffic.
 *
 * One put per replica per second at most, whatever the fleet size: counts
 * are summed per (filter, version, listener, one-second slot) between
 * flushes, and the record carries the newest batches, numbered, so a reader
 * takes each batch once (by replica start and number) and a reader that
 * falls behind loses only what scrolled out. Every size is bounded.
 */
import type { IKeyValue, Watcher } from "etcd3";
import { type BackgroundReport, runInBackground } from "../background";
import type { CountedTraffic, TrafficCounts } from "../health/traffic-counts";
import type { Logger } from "../logger";
import { type Clock, type TimerHandle, every } from "../time/clock";
import type { EtcdConnection } from "./etcd-connection";

const ROOT = "traffic/";
export const FLUSH_MS = 1000;
/** Batches a record keeps (readers more than this many flushes behind lose the rest). */
const BATCHES = 30;
/** Entries in one batch (filter, version, listener, slot). */
const ENTRIES_PER_BATCH = 2000;
/** Node ids kept per entry (they count nodes in canary analysis; a sample is enough beyond this). */
const NODES_PER_ENTRY = 64;

interface Entry {
  readonly filter: string;
  readonly key: string;
  readonly listener: string;
  readonly at: number;
  failed: number;
  total: number;
  readonly nodes: string[];
}

interface Batch {
  readonly seq: number;
  readonly entries: readonly Entry[];
}

interface TrafficRecord {
  readonly replica: string;
  /** When this replica process started its numbering: a restart starts again at 1. */
  readonly epoch: number;
  readonly batches: readonly Batch[];
}

export class TrafficShare {
  private pending = new Map<string, Entry>();
  private readonly batches: Batch[] = [];
  private seq = 0;
  private readonly epoch: number;
  /** Per other replica: the epoch and last batch taken. */
  private readonly taken = new Map<string, { epoch: number; seq: number }>();
  private timer: TimerHandle | undefined;
  private watcher: Watcher | undefined;
  private writing = false;

  constructor(
    private readonly conn: EtcdConnection,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly bg: BackgroundReport,
  ) {
    this.epoch = clock.now();
  }

  private get replica(): string {
    return this.conn.options.replicaId;
  }

  /** Shares what `traffic` counts of this replica's nodes, and adds the other replicas' counts to it. */
  async start(traffic: TrafficCounts): Promise<void> {
    traffic.onCount((c) => this.add(c));
    const r = await this.conn.ns.getAll().prefix(ROOT).exec();
    for (const kv of r.kvs) this.read(kv, traffic);
    this.watcher = await this.conn.ns
      .watch()
      .prefix(ROOT)
      .startRevision(String(BigInt(r.header.revision) + 1n))
      .create();
    this.watcher.on("put", (kv) => this.read(kv, traffic));
    this.watcher.on("error", (err) => this.conn.report(err));
    this.timer = every(this.clock, FLUSH_MS, () => this.flush());
  }

  close(): void {
    this.timer?.cancel();
    this.watcher?.cancel().catch(() => {});
  }

  private add(c: CountedTraffic): void {
    const slot = Math.floor(c.at / 1000);
    const id = `${c.filter}\u0000${c.key}\u0000${c.listener}\u0000${slot}`;
    let e = this.pending.get(id);
    if (!e) {
      if (this.pending.size >= ENTRIES_PER_BATCH) return;
      e = { filter: c.filter, key: c.key, listener: c.listener, at: slot * 1000, failed: 0, total: 0, nodes: [] };
      this.pending.set(id, e);
    }
    e.failed += c.failed;
    e.total += c.total;
    if (e.nodes.length < NODES_PER_ENTRY && !e.nodes.includes(c.nodeId)) e.nodes.push(c.nodeId);
  }

  /** Writes the pending counts as the next batch (one write in flight; the rest waits for the next flush). */
  private flush(): void {
    if (this.pending.size === 0 || this.writing) return;
    const lease = this.conn.currentLease;
    if (lease === undefined) return;
    this.batches.push({ seq: ++this.seq, entries: [...this.pending.values()] });
    this.pending = new Map();
    while (this.batches.length > BATCHES) this.batches.shift();
    const record: TrafficRecord = { replica: this.replica, epoch: this.epoch, batches: this.batches };
    this.writing = true;
    const put = this.conn.putOnLease(`${ROOT}${encodeURIComponent(this.replica)}`, JSON.stringify(record), lease, "traffic counts").finally(() => {
      this.writing = false;
    });
    runInBackground(put, "writing this replica's traffic counts to etcd", this.bg);
  }

  private read(kv: IKeyValue, traffic: TrafficCounts): void {
    const key = kv.key.toString();
    if (key === `${ROOT}${encodeURIComponent(this.replica)}`) return;
    let r: TrafficRecord;
    try {
      r = JSON.parse(kv.value.toString()) as TrafficRecord;
    } catch {
      return;
    }
    if (typeof r?.replica !== "string" || typeof r.epoch !== "number" || !Array.isArray(r.batches)) {
      this.logger.warn("ignoring a malformed traffic record in etcd", { key });
      return;
    }
    const last = this.taken.get(r.replica);
    const after = last && last.epoch === r.epoch ? last.seq : 0;
    let newest = after;
    for (const b of r.batches.slice(-BATCHES)) {
      if (typeof b?.seq !== "number" || b.seq <= after || !Array.isArray(b.entries)) continue;
      newest = Math.max(newest, b.seq);
      for (const e of b.entries.slice(0, ENTRIES_PER_BATCH)) {
        if (!validEntry(e)) continue;
        traffic.importCounts({ filter: e.filter, key: e.key, listener: e.listener, at: e.at, failed: e.failed, total: e.total }, e.nodes.slice(0, NODES_PER_ENTRY));
      }
    }
    this.taken.set(r.replica, { epoch: r.epoch, seq: newest });
  }
}

function validEntry(e: Entry): boolean {
  return (
    typeof e?.filter === "string" &&
    typeof e.key === "string" &&
    typeof e.listener === "string" &&
    Number.isFinite(e.at) &&
    Number.isFinite(e.failed) &&
    Number.isFinite(e.total) &&
    e.failed >= 0 &&
    e.total >= 0 &&
    Array.isArray(e.nodes) &&
    e.nodes.every((n) => typeof n === "string")
  );
}
