/**
 * What the health monitor (monitor.ts) is given: where it reads what is
 * served and to whom, what it may do (republish), and where it reports.
 */
import type { HealthPolicy } from "../config/model";
import type { EventLog } from "../events/event-log";
import type { Logger } from "../logger";
import type { Clock } from "../time/clock";
import type { CacheMisses } from "./cache-miss";
import type { FilterVersions } from "./filter-versions";
import type { Leadership } from "./leadership";
import type { EvidenceSink } from "./node-evidence";
import type { HealthLimits } from "./version-health";

/** What a node runs: filter name -> version key (module sha256 and settings hash). */
export type NodeVersions = (nodeId: string) => ReadonlyMap<string, string>;

export interface MonitorOptions {
  readonly versions: FilterVersions;
  readonly policyOf: (filter: string) => HealthPolicy | undefined;
  /** How the filter reaches Envoy: its config rides in ECDS resources or in listeners. */
  readonly discoveryOf?: (filter: string) => "ecds" | "listener" | undefined;
  readonly nodeVersions: NodeVersions;
  /** The filters of a served listener, in order (access log signals name their listener). */
  readonly listenerFilters?: (listener: string) => readonly string[] | undefined;
  /** Whether a node has an open xDS stream now (XdsServer.nodeInfo). */
  readonly connected: (nodeId: string) => boolean;
  /** Rebuild and publish (after a quarantine changed what may be served). */
  readonly republish: () => Promise<unknown>;
  readonly events: EventLog;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** VM creations within this long after a push to the node are config changes, not crashes. */
  readonly pushGraceMs?: number;
  readonly limits?: Partial<HealthLimits>;
  /**
   * Remote code over ECDS: whether the filter version is served that way,
   * and the tracker that tells its cache-miss NACKs from real ones
   * (cache-miss.ts). Without them every NACK is a NACK.
   */
  readonly remoteOverEcds?: (filter: string, key: string) => boolean;
  readonly cacheMisses?: CacheMisses;
  /**
   * With replicas: only the leader judges, quarantines and promotes; the
   * others gather evidence and hand it to `evidence` (default: always leader).
   */
  readonly leadership?: Leadership;
  /** Told of the evidence about this process's own nodes (replicas carry it to the leader, docs/REPLICAS.md). */
  readonly evidence?: EvidenceSink;
}
