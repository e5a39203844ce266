/**
 * The main process's view of the streams its workers hold (`--workers N`):
 * what XdsServer answers in one process (statuses, nodes, NACK history,
 * events), rebuilt from the workers' reports, so health, rollouts, the
 * pipeline and the admin API read it as they read XdsServer. Times are the
 * main process's clock (when a report arrived), the one every decision
 * uses. Placing a stream in its group is decided here too: the cache's
 * group function runs in this process, and the worker is told (groups.ts).
 */
import type { SnapshotCache } from "../../cache/snapshot-cache";
import type { Clock } from "../../time/clock";
import type { NodeInfo } from "../../vocabulary/node-info";
import { type NackRecord, XdsEvents } from "../events";
import { NackLog } from "../nack-log";
import { StreamsByNode } from "../streams-by-node";
import type { StreamStatus, TypeStatus, XdsProtocol } from "../type-state";
import type { XdsStreams } from "../xds-streams";
import type { StreamItem } from "./protocol";

interface MirrorType {
  wildcard: boolean;
  names: readonly string[];
  sent?: { version: string; nonce: string; at: number; resourceNames: readonly string[] };
  acked?: { version: string; at: number };
  nack?: NackRecord;
}

interface Mirror {
  readonly id: number;
  readonly worker: number;
  readonly protocol: XdsProtocol;
  readonly node: NodeInfo;
  readonly connectedAt: number;
  group: string;
  readonly types: Map<string, MirrorType>;
  ignored: readonly string[];
  blockedSince: number | undefined;
  status: StreamStatus | undefined;
}

/** How the mirror places streams: the group a worker's stream is moved to (groups.ts sends it). */
export interface Placement {
  place(worker: number, streamId: number, group: string, previous: string | undefined): void;
  /** The stream left its group (closed). */
  leave(worker: number, group: string): void;
  /** Sends what place() and leave() queued. */
  flush(): void;
}

export class StreamMirror implements XdsStreams {
  readonly events = new XdsEvents();
  private readonly streams = new Map<number, Mirror>();
  private readonly byNode = new StreamsByNode();
  private readonly nackLog: NackLog;
  /** Open streams per worker, with or without a node (as each last reported). */
  private readonly counts = new Map<number, number>();

  constructor(
    readonly cache: SnapshotCache,
    private readonly placement: Placement,
    private readonly clock: Clock,
    /** Asks every worker to end its streams (status OK). */
    private readonly endStreams: () => void,
    nackHistory = 1000,
  ) {
    this.nackLog = new NackLog(nackHistory);
  }

  /** A worker's report, in the order its streams saw it. */
  apply(worker: number, items: readonly StreamItem[], streams: number): void {
    this.counts.set(worker, streams);
    const now = this.clock.now();
    for (const item of items) {
      switch (item[0]) {
        case "connect":
          this.connect(worker, item[1], item[2], item[3], now);
          break;
        case "push": {
          const m = this.streams.get(item[1]);
          if (!m) break;
          const [, streamId, typeUrl, version, nonce, resourceNames] = item;
          this.typeOf(m, typeUrl).sent = { version, nonce, at: now, resourceNames };
          m.status = undefined;
          this.events.emit({ kind: "push", streamId, node: m.node, typeUrl, version, nonce, resourceNames });
          break;
        }
        case "ack": {
          const m = this.streams.get(item[1]);
          if (!m) break;
          const [, streamId, typeUrl, version] = item;
          const t = this.typeOf(m, typeUrl);
          t.acked = { version, at: now };
          const resourceNames = t.sent?.resourceNames ?? [];
          m.status = undefined;
          this.events.emit({ kind: "ack", streamId, node: m.node, typeUrl, version, resourceNames });
          break;
        }
        case "nack": {
          const m = this.streams.get(item[1]);
          if (!m) break;
          const nack: NackRecord = Object.freeze({ ...item[2], at: now });
          this.typeOf(m, nack.typeUrl).nack = nack;
          m.status = undefined;
          this.nackLog.add(nack);
          this.events.emit({ kind: "nack", node: m.node, nack });
          break;
        }
        case "close":
          this.close(item[1], item[2]);
          break;
        case "sub": {
          const m = this.streams.get(item[1]);
          if (!m) break;
          for (const [typeUrl, wildcard, names, acked] of item[2]) {
            const t = this.typeOf(m, typeUrl);
            t.wildcard = wildcard;
            t.names = names;
            // A reconnect holding what it would be sent counts as ACKed with no ACK event, as in one process.
            if (acked !== null && t.acked === undefined) t.acked = { version: acked, at: now };
          }
          m.ignored = item[3];
          m.status = undefined;
          break;
        }
        case "blocked": {
          const m = this.streams.get(item[1]);
          if (!m) break;
          m.blockedSince = item[2] ? (m.blockedSince ?? now) : undefined;
          m.status = undefined;
          break;
        }
        default:
          break;
      }
    }
    this.placement.flush();
  }

  /** A worker is gone: its streams are closed with `reason`. */
  workerGone(worker: number, reason: string): void {
    for (const m of [...this.streams.values()]) if (m.worker === worker) this.close(m.id, reason);
    this.counts.delete(worker);
    this.placement.flush();
  }

  streamStatuses(): StreamStatus[] {
    return [...this.streams.values()].map((m) => this.status(m));
  }

  nodes(): NodeInfo[] {
    return [...this.streams.values()].map((m) => m.node);
  }

  get streamCount(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return Math.max(n, this.streams.size);
  }

  nodeInfo(nodeId: string): NodeInfo | undefined {
    const id = this.byNode.oldest(nodeId);
    return id === undefined ? undefined : this.streams.get(id)?.node;
  }

  nacks(filter?: { nodeId?: string; typeUrl?: string }): NackRecord[] {
    return this.nackLog.list(filter);
  }

  regroup(which?: (node: NodeInfo) => boolean): void {
    for (const m of this.streams.values()) {
      if (which && !which(m.node)) continue;
      const group = this.cache.groupOf(m.node);
      if (group === m.group) continue;
      const previous = m.group;
      m.group = group;
      m.status = undefined;
      this.placement.place(m.worker, m.id, group, previous);
    }
    this.placement.flush();
  }

  /** The workers end their streams; the mirror forgets each as its worker reports it closed. */
  closeAllStreams(): void {
    this.endStreams();
  }

  private connect(worker: number, id: number, node: NodeInfo, protocol: XdsProtocol, now: number): void {
    const group = this.cache.groupOf(node);
    const m: Mirror = { id, worker, protocol, node, connectedAt: now, group, types: new Map(), ignored: [], blockedSince: undefined, status: undefined };
    this.streams.set(id, m);
    // Ids are unique across workers but interleave: keep the opening order of this process's view.
    this.byNode.add(node.id, id);
    this.placement.place(worker, id, group, undefined);
    this.events.emit({ kind: "connect", streamId: id, node, group });
  }

  private close(id: number, reason: string): void {
    const m = this.streams.get(id);
    if (!m) return;
    this.streams.delete(id);
    this.byNode.remove(m.node.id, id);
    this.placement.leave(m.worker, m.group);
    this.events.emit({ kind: "disconnect", streamId: id, node: m.node, reason });
  }

  private typeOf(m: Mirror, typeUrl: string): MirrorType {
    let t = m.types.get(typeUrl);
    if (!t) {
      t = { wildcard: false, names: [] };
      m.types.set(typeUrl, t);
    }
    return t;
  }

  private status(m: Mirror): StreamStatus {
    m.status ??= {
      streamId: m.id,
      protocol: m.protocol,
      node: m.node,
      group: m.group,
      connectedAt: m.connectedAt,
      ignoredTypes: [...m.ignored],
      types: [...m.types].map(
        ([typeUrl, t]): TypeStatus => ({
          typeUrl,
          wildcard: t.wildcard,
          names: t.names,
          ...(t.sent && { sent: t.sent }),
          ...(t.acked && { acked: t.acked }),
          ...(t.nack && { nack: t.nack }),
        }),
      ),
      ...(m.blockedSince !== undefined && { blockedSince: m.blockedSince }),
    };
    return m.status;
  }
}
