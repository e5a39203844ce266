/**
 * A fleet at a glance: how many nodes are connected and live, which
 * versions they hold per xDS type, how many NACKs they sent, and how their
 * synthetic requests went. Used by `wasmxds sim` for its live line.
 */
import type { NodeSummary } from "./sim-node";

export interface FleetSummary {
  readonly nodes: number;
  readonly connected: number;
  readonly live: number;
  /** Per type (CDS, EDS, LDS, RDS, ECDS): version -> number of nodes holding it. */
  readonly versions: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly nacks: number;
  readonly ok: number;
  readonly failed: number;
}

export const TYPE_ORDER = ["CDS", "EDS", "LDS", "RDS", "ECDS"] as const;

export function summarize(nodes: readonly NodeSummary[]): FleetSummary {
  const versions: Record<string, Record<string, number>> = {};
  let connected = 0;
  let live = 0;
  let nacks = 0;
  let ok = 0;
  let failed = 0;
  for (const n of nodes) {
    if (n.connected) connected++;
    if (n.state === "LIVE") live++;
    nacks += n.nacks;
    ok += n.ok;
    failed += n.failed;
    for (const [type, version] of Object.entries(n.versions)) {
      if (!version) continue;
      const byVersion = versions[type] ?? {};
      byVersion[version] = (byVersion[version] ?? 0) + 1;
      versions[type] = byVersion;
    }
  }
  return { nodes: nodes.length, connected, live, versions, nacks, ok, failed };
}

function short(version: string): string {
  return version.length > 10 ? `${version.slice(0, 8)}…` : version;
}

/** One line, e.g. `10 nodes: 10 connected, 10 live | CDS 1a2b3c4d…×10 | ... | NACKs 0 | requests 120 ok, 3 failed`. */
export function formatSummary(s: FleetSummary): string {
  const types = TYPE_ORDER.flatMap((t) => {
    const held = Object.entries(s.versions[t] ?? {}).sort((a, b) => b[1] - a[1]);
    if (held.length === 0) return [];
    const shown = held.slice(0, 2).map(([v, n]) => `${short(v)}×${n}`);
    if (held.length > 2) shown.push(`+${held.length - 2} more`);
    return [`${t} ${shown.join(" ")}`];
  });
  return [
    `${s.nodes} nodes: ${s.connected} connected, ${s.live} live`,
    ...types,
    `NACKs ${s.nacks}`,
    `requests ${s.ok} ok, ${s.failed} failed`,
  ].join(" | ");
}
