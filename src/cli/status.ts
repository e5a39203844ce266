/**
 * `wasmxds status`: the admin API's view for a terminal: filters with their
 * served, known-good and quarantined versions, connected nodes with what
 * they ACKed or rejected, and the latest events.
 */
import type { FilterView, NodeView } from "../admin/views";
import type { PullView } from "../admin/oci-routes";
import type { LoggedEvent } from "../events/event-log";
import { WasmxdsError } from "../errors";
import { DEFAULT_ADDRESSES } from "../main";
import { parseAdminCommand } from "./admin-client";
import { fetchClusterStatus, renderCluster } from "./cluster-status";
import type { Command } from "./command";
import { type Terminal, paint } from "./output";

const USAGE = `Usage: wasmxds status [options]

Shows filters, connected nodes and recent events of a running wasmxds.

Options:
      --admin-address HOST:PORT admin API of the running server (default: ${DEFAULT_ADDRESSES.admin})
      --admin-token-file FILE   the admin token to send (default: $WASMXDS_ADMIN_TOKEN)
      --events N                how many recent events to show (default: 10)
      --json                    print the raw JSON instead`;

export const statusCommand: Command = {
  name: "status",
  summary: "show filters, nodes and recent events of a running server",
  usage: USAGE,
  async run(argv, term) {
    const { admin, json, positionals, values } = parseAdminCommand<{ events: string }>(argv, DEFAULT_ADDRESSES.admin, { events: { type: "string", default: "10" } });
    if (positionals.length > 0) throw new WasmxdsError("USAGE", `unexpected arguments: ${positionals.join(" ")}`);
    if (!/^\d+$/.test(values.events)) throw new WasmxdsError("USAGE", `--events: expected a number, got "${values.events}"`);
    const [filters, nodes, events, pulls] = await Promise.all([
      admin.get<{ version: string | null; filters: FilterView[] }>("/v1/filters"),
      admin.get<{ nodes: NodeView[] }>("/v1/nodes"),
      admin.get<{ events: LoggedEvent[] }>(`/v1/events?limit=${values.events}`),
      admin.get<{ pulls: PullView[] }>("/v1/pulls"),
    ]);
    const cluster = await fetchClusterStatus(admin);
    if (json) {
      term.out.write(`${JSON.stringify({ ...filters, nodes: nodes.nodes, pulls: pulls.pulls, events: events.events, ...(cluster && { cluster }) }, null, 2)}\n`);
      return 0;
    }
    term.out.write(render(term, filters.version, filters.filters, nodes.nodes, events.events, pulls.pulls));
    if (cluster) term.out.write(`\n${renderCluster(term, cluster).join("\n")}\n`);
    return 0;
  },
};

function render(term: Terminal, version: string | null, filters: FilterView[], nodes: NodeView[], events: LoggedEvent[], pulls: PullView[]): string {
  const b = (t: string) => paint(term, "bold", t);
  const lines = [`${b("wasmxds")} serving version ${version ?? "(nothing yet)"}`, "", b(`Filters (${filters.length})`)];
  for (const f of filters) {
    const cur = f.current;
    const status = cur ? paint(term, cur.status === "good" ? "green" : cur.status === "quarantined" ? "red" : "yellow", cur.status) : "-";
    lines.push(`  ${b(f.name)} ${f.kind} ${cur ? cur.plugin : "-"} [${status}] acked by ${cur?.ackedBy ?? 0}, ${cur?.crashSignals ?? 0} crash signal(s), ${cur?.nacks ?? 0} NACK(s)`);
    if (f.desired) lines.push(`    ${paint(term, "yellow", "wants")} ${f.desired.plugin} (quarantined; serving the known-good version)`);
    if (f.lastGood) lines.push(`    known-good ${f.name}@${f.lastGood.sha256.slice(0, 8)} since ${f.lastGood.since}`);
    for (const q of f.quarantined) lines.push(`    ${paint(term, "red", "quarantined")} ${f.name}@${q.sha256.slice(0, 8)} at ${q.at}: ${q.reason}`);
    for (const r of f.rejected.slice(0, 3)) lines.push(`    ${paint(term, "red", "pre-flight rejected")} ${r.sha256.slice(0, 8)} at ${r.stage}: ${r.reason}`);
  }
  if (pulls.length > 0) lines.push("", b(`OCI pulls (${pulls.length})`));
  for (const p of pulls) {
    const at = p.manifestDigest ? `${p.manifestDigest.slice(0, 19)} module ${p.sha256?.slice(0, 8) ?? "-"}` : "never resolved";
    lines.push(`  ${p.reference} ${p.pullPolicy} ${at}${p.filters.length > 0 ? ` (${p.filters.join(", ")})` : ""}`);
    if (p.error) lines.push(`    ${paint(term, "red", "pull failed")} at ${p.errorAt ?? "?"}: ${p.error}`);
  }
  lines.push("", b(`Nodes (${nodes.length})`));
  for (const n of nodes.slice(0, 50)) {
    const types = Object.entries(n.types)
      .map(([t, s]) => `${t} ${s.acked ? s.acked.slice(0, 8) : "-"}${s.rejected ? paint(term, "red", ` NACK ${s.rejected.version.slice(0, 8)}`) : ""}`)
      .join("  ");
    lines.push(`  ${n.id}${n.cluster ? ` (${n.cluster})` : ""} ${paint(term, "gray", n.protocol)}  ${types}`);
    for (const [t, s] of Object.entries(n.types)) if (s.rejected) lines.push(`    ${t} rejected: ${s.rejected.message}`);
  }
  if (nodes.length > 50) lines.push(`  ... and ${nodes.length - 50} more`);
  lines.push("", b("Recent events"));
  for (const e of events) lines.push(`  ${paint(term, "gray", e.at.slice(11, 19))} ${e.type.padEnd(17)} ${e.message}`);
  return `${lines.join("\n")}\n`;
}
