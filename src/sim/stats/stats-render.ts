/**
 * Envoy's admin stats formats (admin docs, "GET /stats" and
 * "GET /stats/prometheus"; docs/ENVOY.md "Getting stats out of Envoy"):
 * `{"stats":[{"name":..,"value":..},...]}` sorted by name, `filter=<regex>`
 * matched anywhere in the name (RE2 partial match), `usedonly`, and the
 * Prometheus text with `envoy_` + the name with every character outside
 * [a-zA-Z0-9_] turned into `_`. Envoy's tag extraction (which moves e.g.
 * the stat prefix into labels) is not simulated: every stat is one series
 * without labels, written `{}` as Envoy writes label-less series.
 */
import type { Stat } from "./stats-store";

export interface StatsQuery {
  readonly filter?: RegExp;
  readonly usedOnly?: boolean;
}

export function selectStats(stats: readonly Stat[], q: StatsQuery): Stat[] {
  return stats.filter((s) => (!q.usedOnly || s.used) && (!q.filter || q.filter.test(s.name)));
}

export function renderJson(stats: readonly Stat[]): string {
  return JSON.stringify({ stats: stats.map((s) => ({ name: s.name, value: s.value })) });
}

export function renderText(stats: readonly Stat[]): string {
  return stats.map((s) => `${s.name}: ${s.value}\n`).join("");
}

/** `envoy_` + the stat name with non-alphanumerics replaced by `_`. */
export function prometheusName(name: string): string {
  return `envoy_${name.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

export function renderPrometheus(stats: readonly Stat[]): string {
  const lines: string[] = [];
  for (const s of stats) {
    const name = prometheusName(s.name);
    lines.push(`# TYPE ${name} ${s.type}`, `${name}{} ${s.value}`);
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}
