/**
 * Node identity bound to client certificates (`--node-identity`): with mTLS
 * the connection proves who the peer is, and the node id it claims in xDS,
 * metrics-service or access-log messages must be that name, or a node could
 * pose as another (steal its canary slot, feed the health monitor stats for
 * it). The field compared is the certificate's subject CN, a DNS SAN, or a
 * URI SAN (SPIFFE IDs, spiffe://trust-domain/path, are URI SANs).
 *
 * Lives with the transport (foundation) so that the xDS server and the push
 * services check it the same way at their stream boundaries.
 */
import type { PeerCertificate } from "node:tls";
import { WasmxdsError } from "../errors";

export const NODE_IDENTITY_MODES = ["off", "cn", "san-dns", "san-uri"] as const;
export type NodeIdentityMode = (typeof NODE_IDENTITY_MODES)[number];

/** What grpc-js's call.getAuthContext() gives (grpc-js 1.14): the peer certificate of an authorized TLS connection. */
export interface PeerAuth {
  readonly sslPeerCertificate?: PeerCertificate | undefined;
}

const FIELD_NAMES: Record<Exclude<NodeIdentityMode, "off">, string> = {
  cn: "subject CN",
  "san-dns": "DNS subject alternative names",
  "san-uri": "URI subject alternative names",
};

export function parseNodeIdentityMode(text: string, flag: string): NodeIdentityMode {
  const mode = NODE_IDENTITY_MODES.find((m) => m === text);
  if (!mode) throw new WasmxdsError("USAGE", `${flag}: expected one of ${NODE_IDENTITY_MODES.join(", ")}, got ${JSON.stringify(text)}`);
  return mode;
}

/**
 * The certificate's SANs of one kind. Node prints subjectaltname as
 * `DNS:a, URI:spiffe://x/y`, quoting a value JSON-style when it holds a
 * comma or quote, so the entries are split with that in mind.
 */
export function subjectAltNames(cert: PeerCertificate, kind: "DNS" | "URI"): string[] {
  const text = cert.subjectaltname ?? "";
  const names: string[] = [];
  const entry = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const m of text.matchAll(entry)) {
    if (m[1] !== kind || m[2] === undefined) continue;
    const raw = m[2];
    names.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return names;
}

/** The names the certificate gives for a mode (a certificate may carry several SANs; CN is one value, or several when repeated). */
export function certificateNames(cert: PeerCertificate, mode: Exclude<NodeIdentityMode, "off">): string[] {
  if (mode === "cn") {
    const cn: unknown = cert.subject?.CN;
    return typeof cn === "string" ? [cn] : Array.isArray(cn) ? cn.filter((c): c is string => typeof c === "string") : [];
  }
  return subjectAltNames(cert, mode === "san-dns" ? "DNS" : "URI");
}

const quote = (s: string) => JSON.stringify(s.length > 256 ? `${s.slice(0, 256)}…` : s);

/**
 * Why a stream claiming `nodeId` may not go on, naming the claimed id and
 * the certificate's; undefined when it may (always with mode off).
 */
export function nodeIdentityProblem(mode: NodeIdentityMode, auth: PeerAuth | undefined, nodeId: string): string | undefined {
  if (mode === "off") return undefined;
  const cert = auth?.sslPeerCertificate;
  const field = FIELD_NAMES[mode];
  if (!cert) {
    return `node id ${quote(nodeId)} must match the ${field} of a client certificate (--node-identity ${mode}), and the connection presented none`;
  }
  const names = certificateNames(cert, mode);
  if (names.includes(nodeId)) return undefined;
  if (names.length === 0) return `node id ${quote(nodeId)} cannot be checked: the client certificate has no ${field} (--node-identity ${mode})`;
  return `node id ${quote(nodeId)} does not match the client certificate's ${field} (${names.slice(0, 4).map(quote).join(", ")}) (--node-identity ${mode})`;
}
