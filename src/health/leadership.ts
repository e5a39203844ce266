/**
 * Who may decide. With replicas (docs/REPLICAS.md) every replica serves and
 * gathers evidence, but only the elected leader quarantines, promotes,
 * records decisions and steps rollouts; the others apply what the leader
 * stored. The health monitor and the rollout controller ask this small
 * interface before every decision; a single process is always the leader.
 */
export interface Leadership {
  /** Whether this process may decide now (false while etcd cannot confirm its lease). */
  isLeader(): boolean;
  /** Who decides, for messages to an operator who asked a replica that does not ("replica b at 10.0.0.6:18003"). */
  describeLeader(): string;
}

export const alwaysLeader: Leadership = Object.freeze({
  isLeader: () => true,
  describeLeader: () => "this process",
});
