/**
 * The health monitor's memory of nodes connected to other replicas
 * (docs/REPLICAS.md, "Signals from every replica count"): the versions each
 * holds and ACKed, and the signals their replica attributed, applied to the
 * versions this monitor tracks. A version may be tracked here only after
 * another replica's node reported on it (that replica published first), so
 * holds, ACKs and signals about untracked versions are kept (bounded) and
 * applied when it is tracked. Signals are taken once each, by their seq.
 */
import type { NodeEvidence } from "./node-evidence";
import type { HealthSignal } from "./signal";
import type { VersionHealth } from "./version-health";

/** Signals about untracked versions kept per remote node. */
const PENDING_PER_NODE = 64;

interface RemoteNode {
  held: Set<string>;
  acked: Set<string>;
  pending: Array<NodeEvidence["signals"][number]>;
  seq: number;
}

export function versionId(filter: string, key: string): string {
  return `${filter}|${key}`;
}

export class RemoteEvidence {
  private readonly nodes = new Map<string, RemoteNode>();

  constructor(
    private readonly tracked: (id: string) => VersionHealth | undefined,
    /** Records a signal on a tracked version and judges it. */
    private readonly record: (v: VersionHealth, signal: HealthSignal) => void,
  ) {}

  import(nodeId: string, e: NodeEvidence): void {
    let r = this.nodes.get(nodeId);
    if (!r) {
      r = { held: new Set(), acked: new Set(), pending: [], seq: 0 };
      this.nodes.set(nodeId, r);
    }
    r.held = new Set(e.holds.map(([filter, key]) => versionId(filter, key)));
    r.acked = new Set(e.acked.map(([filter, key]) => versionId(filter, key)));
    for (const id of r.held) this.tracked(id)?.holders.add(nodeId);
    for (const id of r.acked) this.tracked(id)?.ack(nodeId);
    for (const s of e.signals.filter((x) => x.seq > r.seq)) {
      r.seq = Math.max(r.seq, s.seq);
      const v = this.tracked(versionId(s.filter, s.key));
      if (v) this.record(v, s.signal);
      else {
        r.pending.push(s);
        if (r.pending.length > PENDING_PER_NODE) r.pending.shift();
      }
    }
  }

  /** A version tracked now: what other replicas' nodes said of it before. */
  adopt(id: string, v: VersionHealth): void {
    for (const [node, r] of this.nodes) {
      if (r.held.has(id)) v.holders.add(node);
      if (r.acked.has(id)) v.ack(node);
      const mine = r.pending.filter((s) => versionId(s.filter, s.key) === id);
      if (mine.length === 0) continue;
      r.pending = r.pending.filter((s) => versionId(s.filter, s.key) !== id);
      for (const s of mine) this.record(v, s.signal);
    }
  }

  forget(nodeId: string): void {
    for (const id of this.nodes.get(nodeId)?.held ?? []) this.tracked(id)?.holders.delete(nodeId);
    this.nodes.delete(nodeId);
  }
}
