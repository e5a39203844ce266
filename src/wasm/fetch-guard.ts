/**
 * The SSRF guard for `url:` module fetches (SECURITY.md, "Fetching modules").
 * A config author, or whoever controls a DNS name or a redirect, must not be
 * able to point the control plane at its own loopback services, the cloud
 * metadata endpoint (169.254.169.254) or the private network behind it. So a
 * name is resolved here, every address is classified, and the connection is
 * then made to the vetted address only (the `lookup` handed to the request),
 * leaving DNS no second answer between the check and the connect.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { ModuleError } from "../errors";

export interface VettedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a hostname to all its addresses (dns.lookup with all: true by default). */
export type HostResolver = (hostname: string) => Promise<readonly VettedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** The range `address` falls in that the guard refuses ("a loopback address"), or undefined. */
export function forbiddenRange(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4) return ipv4Range(address);
  if (family === 6) return ipv6Range(address);
  return "not an IP address";
}

function ipv4Range(address: string): string | undefined {
  const [a = 0, b = 0] = address.split(".").map(Number);
  if (a === 0) return "an unspecified address";
  if (a === 127) return "a loopback address";
  if (a === 169 && b === 254) return "a link-local address";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "a private address";
  return undefined;
}

function ipv6Range(address: string): string | undefined {
  const groups = expandIpv6(address);
  const first = groups[0] ?? 0;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const v4 = `${(groups[6] ?? 0) >> 8}.${(groups[6] ?? 0) & 255}.${(groups[7] ?? 0) >> 8}.${(groups[7] ?? 0) & 255}`;
    const range = ipv4Range(v4);
    return range === undefined ? undefined : `${range} (IPv4-mapped ${v4})`;
  }
  if (groups.every((g) => g === 0)) return "an unspecified address";
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return "a loopback address";
  if ((first & 0xffc0) === 0xfe80) return "a link-local address";
  if ((first & 0xfe00) === 0xfc00) return "a private address";
  return undefined;
}

/** Eight 16-bit groups; accepts `::` and a dotted IPv4 tail. Input is a valid IPv6 address. */
function expandIpv6(address: string): number[] {
  let text = address.split("%")[0] ?? "";
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [, a, b, c, d] = dotted.map(Number);
    text = `${text.slice(0, dotted.index)}${(((a ?? 0) << 8) | (b ?? 0)).toString(16)}:${(((c ?? 0) << 8) | (d ?? 0)).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

export interface GuardPolicy {
  /** `server.allowPrivateFetch`: skip the range checks. */
  readonly allowPrivateFetch: boolean;
  /** Addresses exempt from the checks (embedding and tests). */
  readonly allowAddresses?: readonly string[];
  readonly resolver?: HostResolver;
}

/**
 * Resolves the URL's host and returns the address to connect to. Refuses
 * (ModuleError MODULE_FETCH_FAILED, not retryable) when any address of the
 * name is in a forbidden range: a name answering with one public and one
 * private address would otherwise let the attacker pick.
 */
export async function vetHost(url: URL, policy: GuardPolicy): Promise<VettedAddress> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const literal = isIP(hostname);
  const addresses: readonly VettedAddress[] =
    literal !== 0 ? [{ address: hostname, family: literal === 6 ? 6 : 4 }] : await (policy.resolver ?? systemResolver)(hostname);
  const first = addresses[0];
  if (first === undefined) throw new ModuleError("MODULE_FETCH_FAILED", `${url.href}: ${hostname} resolved to no address`);
  if (policy.allowPrivateFetch) return first;
  for (const { address } of addresses) {
    if (policy.allowAddresses?.includes(address)) continue;
    const range = forbiddenRange(address);
    if (range !== undefined) {
      const via = literal !== 0 ? "" : ` (${hostname} resolves to it)`;
      throw new ModuleError(
        "MODULE_FETCH_FAILED",
        `${url.href}: ${address} is ${range}${via}; set server.allowPrivateFetch: true to fetch from it`,
      );
    }
  }
  return first;
}
