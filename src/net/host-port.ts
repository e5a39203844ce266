/**
 * HOST:PORT addresses as given on the command line (`--modules-address`,
 * `--xds-address`, ...). Parsed once at the edge into a frozen value so the
 * servers never see a malformed address; IPv6 literals must be bracketed
 * (`[::1]:18002`) because an unbracketed `::1:18002` is ambiguous.
 */
import { isIP, isIPv6 } from "node:net";
import { WasmxdsError } from "../errors";

export interface HostPort {
  /** A hostname, an IPv4 literal, or an IPv6 literal without brackets. */
  readonly host: string;
  /** 0..65535; 0 asks the OS for a free port (tests). */
  readonly port: number;
}

// RFC 1123 hostname labels; IP literals are checked separately with node:net.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const PORT = /^[0-9]{1,5}$/;

/**
 * Parses `HOST:PORT` or `[IPV6]:PORT`. Throws WasmxdsError ADDRESS_INVALID
 * with a message naming the flag, e.g. `--modules-address: expected HOST:PORT, got "x"`.
 */
export function parseHostPort(text: string, flagName: string): HostPort {
  const fail = (why?: string): never => {
    const detail = why === undefined ? "" : ` (${why})`;
    throw new WasmxdsError(
      "ADDRESS_INVALID",
      `${flagName}: expected HOST:PORT, got ${JSON.stringify(text)}${detail}`,
    );
  };

  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0 || text[close + 1] !== ":") fail("IPv6 addresses look like [::1]:18002");
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!isIPv6(host)) fail(`${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) fail();
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(":")) fail("put IPv6 addresses in brackets, e.g. [::1]:18002");
    if (host === "") fail("the host is empty; use 0.0.0.0 to listen on all interfaces");
    if (isIP(host) === 0 && !HOSTNAME.test(host)) fail(`${JSON.stringify(host)} is not a hostname or IP address`);
  }

  if (!PORT.test(portText)) fail(`${JSON.stringify(portText)} is not a port number`);
  const port = Number(portText);
  if (port > 65535) fail(`port ${port} is above 65535`);
  return Object.freeze({ host, port });
}

/**
 * The inverse of parseHostPort: brackets IPv6 literals so the result is usable in a URL.
 * Only an IPv6 literal contains a colon (a hostname or IPv4 literal cannot), so this
 * needs no isIPv6(), whose first call costs 10-30 ms at start-up compiling its pattern.
 */
export function formatHostPort(address: HostPort): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
