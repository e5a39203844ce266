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
import { specialRange } from "../net/ip-ranges";

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
    const range = specialRange(address);
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
