/**
 * Node selectors, label-selector style: each field narrows the set; values
 * are equality (a string), `in` (a list), or for metadata also
 * `{ exists: true|false }`, `{ in: [...] }`, `{ notIn: [...] }`.
 */
import type { NodeInfo } from "./node-info";

export type ValueMatch =
  | string
  | readonly string[]
  | { readonly exists: boolean }
  | { readonly in: readonly string[] }
  | { readonly notIn: readonly string[] };

export interface NodeSelector {
  readonly id?: string | readonly string[];
  readonly cluster?: string | readonly string[];
  readonly region?: string | readonly string[];
  readonly zone?: string | readonly string[];
  readonly metadata?: Readonly<Record<string, ValueMatch>>;
}

export function matchesSelector(node: NodeInfo, sel: NodeSelector): boolean {
  return (
    matchValue(node.id, sel.id) &&
    matchValue(node.cluster, sel.cluster) &&
    matchValue(node.locality.region, sel.region) &&
    matchValue(node.locality.zone, sel.zone) &&
    Object.entries(sel.metadata ?? {}).every(([k, m]) => matchMeta(node.metadata[k], m))
  );
}

function matchValue(actual: string, want: string | readonly string[] | undefined): boolean {
  if (want === undefined) return true;
  return typeof want === "string" ? actual === want : want.includes(actual);
}

function matchMeta(actual: unknown, m: ValueMatch): boolean {
  const text = actual === undefined || actual === null ? undefined : typeof actual === "string" ? actual : JSON.stringify(actual);
  if (typeof m === "string") return text === m;
  if (isList(m)) return text !== undefined && m.includes(text);
  if ("exists" in m) return (text !== undefined) === m.exists;
  if ("in" in m) return text !== undefined && m.in.includes(text);
  return text === undefined || !m.notIn.includes(text);
}

function isList(m: ValueMatch): m is readonly string[] {
  return Array.isArray(m);
}

export function describeSelector(sel: NodeSelector): string {
  const parts: string[] = [];
  for (const k of ["id", "cluster", "region", "zone"] as const) {
    const v = sel[k];
    if (v !== undefined) parts.push(`${k}=${typeof v === "string" ? v : `{${v.join(",")}}`}`);
  }
  for (const [k, m] of Object.entries(sel.metadata ?? {})) {
    parts.push(`metadata.${k}${typeof m === "string" ? `=${m}` : Array.isArray(m) ? ` in {${m.join(",")}}` : ` ${JSON.stringify(m)}`}`);
  }
  return parts.join(" ") || "all nodes";
}
