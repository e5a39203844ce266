/**
 * Where a node's Envoy admin API listens, for pulling its stats when the
 * metrics service sink is not configured (docs/ENVOY.md "Getting stats out of
 * Envoy": "the node's admin address comes from configuration or node
 * metadata"). Envoy does not tell the control plane its admin address, so
 * the bootstrap has to: `node.metadata` key `wasmxds.admin` (flat, or
 * nested as `wasmxds: { admin: ... }`), or `admin_address`, as
 * `HOST:PORT` or `http://HOST:PORT`. An explicit map by node id wins.
 */
import type { NodeInfo } from "../vocabulary/node-info";

export const ADMIN_METADATA_KEYS = ["wasmxds.admin", "admin_address"] as const;

/** The admin address a node's metadata names, if any. */
export function adminAddressFromMetadata(node: NodeInfo): string | undefined {
  const md = node.metadata;
  const nested = md["wasmxds"];
  const candidates = [
    md["wasmxds.admin"],
    nested !== null && typeof nested === "object" && !Array.isArray(nested) ? (nested as Record<string, unknown>)["admin"] : undefined,
    md["admin_address"],
  ];
  for (const c of candidates) if (typeof c === "string" && c.trim() !== "") return c.trim();
  return undefined;
}

/** An `addressOf` for AdminStatsPoller: the explicit entry for the node id, else its metadata. */
export function adminAddressResolver(explicit: Readonly<Record<string, string>> | ReadonlyMap<string, string> = {}): (node: NodeInfo) => string | undefined {
  const map = explicit instanceof Map ? explicit : new Map(Object.entries(explicit));
  return (node) => map.get(node.id) ?? adminAddressFromMetadata(node);
}

/** `http://host:port` for `host:port`, `[v6]:port` or an http(s) URL; undefined if it is not an address. */
export function adminBaseUrl(address: string): string | undefined {
  const text = address.trim();
  if (text === "") return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") return undefined;
  return `${url.protocol}//${url.host}`;
}
