/**
 * JSON views of the control plane's state for the admin API and
 * `wasmxds status`: connected nodes and filters.
 */
import type { ModuleChecks } from "../control/module-checks";
import type { FilterVersions } from "../health/filter-versions";
import type { HealthMonitor } from "../health/monitor";
import type { Publisher } from "../control/publisher";
import { SHORT_NAMES, type TypeUrl } from "../vocabulary/type-urls";
import type { StreamStatus, XdsProtocol } from "../xds/type-state";
import type { XdsStreams } from "../xds/xds-streams";

export interface NodeView {
  readonly id: string;
  readonly cluster: string;
  readonly locality: { region: string; zone: string; subZone: string };
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly userAgent: string;
  readonly group: string;
  readonly streamId: number;
  /** The xDS variant the node speaks on this stream: "sotw" (StreamAggregatedResources) or "delta" (DeltaAggregatedResources). */
  readonly protocol: XdsProtocol;
  readonly connectedAt: string;
  /** Per type (CDS, EDS, ECDS, LDS, RDS): what was sent, ACKed and rejected. */
  readonly types: Record<string, { sent?: string; acked?: string; ackedAt?: string; names: readonly string[]; rejected?: { version: string; message: string; at: string } }>;
}

export function nodeViews(xds: XdsStreams): NodeView[] {
  const out: NodeView[] = [];
  for (const s of xds.streamStatuses()) {
    const v = nodeView(s);
    if (v) out.push(v);
  }
  return out.sort(byNodeId);
}

/** Node id order, then stream order (one id may hold two streams for a moment while it reconnects). */
export function byNodeId(a: { id: string; streamId: number }, b: { id: string; streamId: number }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : a.streamId - b.streamId;
}

/** One stream's node, or undefined before its first request names one. */
export function nodeView(s: StreamStatus): NodeView | undefined {
  if (!s.node) return undefined;
  const types: NodeView["types"] = {};
  for (const t of s.types) {
    types[SHORT_NAMES[t.typeUrl as TypeUrl] ?? t.typeUrl] = {
      ...(t.sent && { sent: t.sent.version }),
      ...(t.acked && { acked: t.acked.version, ackedAt: new Date(t.acked.at).toISOString() }),
      names: t.wildcard ? ["*"] : t.names,
      ...(t.nack && { rejected: { version: t.nack.rejectedVersion, message: t.nack.message, at: new Date(t.nack.at).toISOString() } }),
    };
  }
  return {
    id: s.node.id,
    cluster: s.node.cluster,
    locality: s.node.locality,
    metadata: s.node.metadata,
    userAgent: s.node.userAgent,
    group: s.group ?? "",
    streamId: s.streamId,
    protocol: s.protocol,
    connectedAt: new Date(s.connectedAt).toISOString(),
    types,
  };
}

export interface FilterView {
  readonly name: string;
  readonly kind: string;
  readonly failurePolicy: string;
  /** The version being served: module sha256, Envoy plugin name, health status. */
  readonly current?: { sha256: string; plugin: string; status: string; ackedBy: number; crashSignals: number; nacks: number };
  /** The version the config folder names, when it differs (it is quarantined). */
  readonly desired?: { sha256: string; plugin: string };
  readonly lastGood?: { sha256: string; since: string; settings: unknown };
  /** Versions rolled back and never pushed again until cleared. */
  readonly quarantined: ReadonlyArray<{ sha256: string; reason: string; at: string; nodes: readonly string[] }>;
  /** Versions the pre-flight check rejected, newest first. */
  readonly rejected: ReadonlyArray<{ sha256: string; stage?: string; reason?: string; at: string }>;
}

export function filterViews(publisher: Publisher, checks: ModuleChecks, versions: FilterVersions, monitor: HealthMonitor): FilterView[] {
  const published = publisher.published;
  if (!published) return [];
  return published.loaded.config.filters.map((f) => {
    const sha = published.modules.get(f.name);
    const desired = published.loaded.modules.get(f.name)?.sha256;
    const key = published.served.get(f.name)?.key;
    const tracked = monitor.versionsOf(f.name).find((v) => v.key === key);
    const good = versions.lastGood(f.name);
    const lastGood = good && { sha256: good.sha256, since: good.since, settings: good.settings };
    return {
      name: f.name,
      kind: f.kind,
      failurePolicy: f.failurePolicy,
      ...(sha && {
        current: {
          sha256: sha,
          plugin: `${f.name}@${sha.slice(0, 8)}`,
          status: tracked?.status ?? "unknown",
          ackedBy: tracked?.acked.size ?? 0,
          crashSignals: tracked?.crashes.reduce((n, c) => n + c.count, 0) ?? 0,
          nacks: tracked?.nacks.length ?? 0,
        },
      }),
      ...(desired && desired !== sha && { desired: { sha256: desired, plugin: `${f.name}@${desired.slice(0, 8)}` } }),
      ...(lastGood && { lastGood }),
      quarantined: versions.quarantined(f.name).map((q) => ({ sha256: q.sha256, reason: q.reason, at: q.at, nodes: q.nodes })),
      rejected: checks
        .history(f.name)
        .filter((r) => !r.ok)
        .map((r) => ({ sha256: r.sha256, stage: r.stage, reason: r.reason, at: new Date(r.at).toISOString() })),
    };
  });
}

