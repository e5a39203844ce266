/**
 * `wasmxds explain <node-id>`: which version of each filter one node
 * receives, and why (base, rollout step, selector, quarantine fallback,
 * re-push attempt, NACK), from the admin API of a running server
 * (GET /v1/nodes/<id>/explain; control/explain.ts).
 */
import type { NodeExplanation } from "../control/explain";
import { WasmxdsError } from "../errors";
import { DEFAULT_ADDRESSES } from "../main";
import { parseAdminCommand } from "./admin-client";
import type { Command } from "./command";
import { type Terminal, paint } from "./output";

const USAGE = `Usage: wasmxds explain <node-id> [options]

Shows which version of each filter a connected node receives, and why.

Options:
      --admin-address HOST:PORT admin API of the running server (default: ${DEFAULT_ADDRESSES.admin})
      --admin-token-file FILE   the admin token to send (default: $WASMXDS_ADMIN_TOKEN)
      --json                    print the raw JSON instead`;

export const explainCommand: Command = {
  name: "explain",
  summary: "show which version of each filter a node receives, and why",
  usage: USAGE,
  async run(argv, term) {
    const { admin, json, positionals } = parseAdminCommand(argv, DEFAULT_ADDRESSES.admin);
    const [nodeId, ...extra] = positionals;
    if (!nodeId || extra.length > 0) throw new WasmxdsError("USAGE", "expected exactly one node id");
    const explained = await admin.get<NodeExplanation>(`/v1/nodes/${encodeURIComponent(nodeId)}/explain`);
    term.out.write(json ? `${JSON.stringify(explained, null, 2)}\n` : render(term, explained));
    return 0;
  },
};

function render(term: Terminal, e: NodeExplanation): string {
  const b = (t: string) => paint(term, "bold", t);
  const lines = [`${b(e.node)} in group ${e.group === "" ? "(base)" : `"${e.group}"`}, snapshot version ${e.version ?? "(nothing yet)"}`];
  for (const f of e.filters) {
    lines.push(`  ${b(f.filter)}: ${f.receives ? f.receives.plugin : paint(term, "yellow", "no filter")}`);
    for (const r of f.reasons) lines.push(`    ${paint(term, r.kind === "nack" || r.kind === "quarantine-fallback" ? "red" : "gray", r.kind)} ${r.text}`);
  }
  return `${lines.join("\n")}\n`;
}
