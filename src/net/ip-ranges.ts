/**
 * Which special range an IP address is in, written once for every check
 * that depends on it (SSRF guard, admin exposure).
 */
import { isIP } from "node:net";

/**
 * The special range an IP address falls in ("a loopback address", "a
 * link-local address", "a private address", "an unspecified address"; an
 * IPv4-mapped IPv6 address as its IPv4 form), or undefined for a public
 * one. The module fetch guard refuses these (wasm/fetch-guard.ts); the admin
 * API needs a token off loopback (admin/admin-auth.ts).
 */
export function specialRange(address: string): string | undefined {
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
