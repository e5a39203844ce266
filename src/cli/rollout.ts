/**
 * `wasmxds rollout status|pause|resume|promote|abort <filter>`: fleet
 * rollouts from a terminal, through the admin API.
 */
import { WasmxdsError } from "../errors";
import { DEFAULT_ADDRESSES } from "../main";
import type { RolloutStatus } from "../rollout/status";
import { parseAdminCommand } from "./admin-client";
import type { Command } from "./command";
import { type Terminal, paint } from "./output";

const ACTIONS = ["status", "pause", "resume", "promote", "abort"] as const;
type Action = (typeof ACTIONS)[number];

const USAGE = `Usage: wasmxds rollout <status|pause|resume|promote|abort> [filter] [options]

  status [filter]   each rollout: step, nodes on each version, ACKs, gate values, canary analysis, bake time left
  pause <filter>    stop the bake clock (nodes keep what they run)
  resume <filter>   restart the bake clock where it stopped
  promote <filter>  move to the next step now
  abort <filter>    put every node back on the stable version and quarantine the candidate

Options:
      --admin-address HOST:PORT admin API of the running server (default: ${DEFAULT_ADDRESSES.admin})
      --admin-token-file FILE   the admin token to send (default: $WASMXDS_ADMIN_TOKEN)
      --json                    print the raw JSON`;

export const rolloutCommand: Command = {
  name: "rollout",
  summary: "show and steer fleet rollouts of filter versions",
  usage: USAGE,
  async run(argv, term) {
    const { admin, json, positionals } = parseAdminCommand(argv, DEFAULT_ADDRESSES.admin);
    const [action, filter, ...extra] = positionals;
    if (!action || !(ACTIONS as readonly string[]).includes(action)) {
      throw new WasmxdsError("USAGE", `expected one of ${ACTIONS.join(", ")}, got ${action ? `"${action}"` : "nothing"}`);
    }
    if (extra.length > 0) throw new WasmxdsError("USAGE", `unexpected arguments: ${extra.join(" ")}`);
    if (action !== "status" && !filter) throw new WasmxdsError("USAGE", `rollout ${action} needs a filter name`);
    let statuses: RolloutStatus[];
    if ((action as Action) === "status") {
      const all = await admin.get<{ rollouts: RolloutStatus[] }>("/v1/rollouts");
      statuses = all.rollouts.filter((r) => !filter || r.filter === filter);
      if (filter && statuses.length === 0) throw new WasmxdsError("USAGE", `no rollout for filter "${filter}"`);
    } else {
      statuses = [await admin.post<RolloutStatus>(`/v1/rollouts/${encodeURIComponent(filter ?? "")}/${action}`)];
    }
    term.out.write(json ? `${JSON.stringify(statuses, null, 2)}\n` : statuses.map((s) => render(term, s)).join("\n"));
    return 0;
  },
};

function bar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

function render(term: Terminal, s: RolloutStatus): string {
  const lines = [`${paint(term, "bold", s.filter)} ${s.state === "running" ? paint(term, "green", "running") : s.state === "paused" ? paint(term, "yellow", "paused") : "idle"}`];
  if (s.stable) lines.push(`  stable     ${s.stable.plugin} (settings ${s.stable.settings})`);
  if (s.candidate) lines.push(`  candidate  ${s.candidate.plugin} (settings ${s.candidate.settings})`);
  if (s.queued) lines.push(`  queued     ${s.queued.plugin} (settings ${s.queued.settings})`);
  if (s.step) {
    const left = s.step.bakeLeftMs === null ? "waiting for ACKs" : `${Math.ceil(s.step.bakeLeftMs / 1000)}s of ${Math.ceil(s.step.bakeMs / 1000)}s bake left`;
    lines.push(`  step       ${s.step.index}/${s.step.of} ${bar(s.step.index, s.step.of)} (${s.step.description}; ${left})`);
  }
  lines.push(`  nodes      ${bar(s.nodes.onCandidate, s.nodes.eligible)} ${s.nodes.onCandidate}/${s.nodes.eligible} on the candidate, ${s.nodes.onStable} on stable`);
  if (s.values) {
    const g = s.gates;
    lines.push(
      `  gates      NACKs ${s.values.nacks}/${g.maxNacks}  crashes ${s.values.crashes}/${g.maxCrashes}  disconnects ${s.values.disconnects}/${g.maxDisconnects}  ACKed ${s.values.acked} (min ${g.minAcked})`,
    );
  }
  if (s.analysis) {
    const a = s.analysis;
    const color = a.outcome === "fail" ? "red" : a.outcome === "wait" ? "yellow" : a.outcome === "pass" ? "green" : "gray";
    const label = a.outcome === "wait" ? "undecided (the step waits after its bake)" : a.outcome;
    lines.push(`  analysis   ${paint(term, color, label)}: ${a.summary}`);
  }
  for (const h of s.history.slice(-3)) lines.push(`  ${paint(term, "gray", new Date(h.at).toISOString().slice(0, 19))} ${h.outcome}: ${h.reason}`);
  return `${lines.join("\n")}\n`;
}
