/**
 * Evidence about one node, as it leaves the replica the node is connected
 * to and reaches the leader (docs/REPLICAS.md, "Signals"). The monitor of
 * the node's replica has already checked that the node is connected and was
 * sent the version, and attributed each signal to a version; the leader's
 * monitor adds the evidence to its own and decides. Shapes only: the cluster
 * layer carries them through etcd.
 */
import type { HealthSignal } from "./signal";

/** A filter version: filter name and version key. */
export type VersionOf = readonly [filter: string, key: string];

/** A signal attributed to a version, numbered by the replica that saw it (so the leader takes each once). */
export interface AttributedSignal {
  readonly seq: number;
  readonly filter: string;
  readonly key: string;
  readonly signal: HealthSignal;
}

export interface NodeEvidence {
  /** Versions the node was sent (it holds them). */
  readonly holds: readonly VersionOf[];
  /** Versions whose ACK counts as evidence. */
  readonly acked: readonly VersionOf[];
  /** The newest attributed signals (bounded by the writer). */
  readonly signals: readonly AttributedSignal[];
}

/** Told by the monitor of every piece of evidence about its own nodes. */
export interface EvidenceSink {
  holds(nodeId: string, filter: string, key: string): void;
  acked(nodeId: string, filter: string, key: string): void;
  signal(nodeId: string, filter: string, key: string, signal: HealthSignal): void;
  /** The node left this replica (its last stream closed). */
  forget(nodeId: string): void;
}
