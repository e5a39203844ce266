/**
 * `host:port` strings in wasmxds.yaml. Listener addresses must be IP literals
 * (Envoy binds a SocketAddress and does not resolve names there); cluster
 * endpoints may also be DNS names. IPv6 literals are bracketed (`[::1]:8080`)
 * because `::1:8080` is ambiguous, the same rule as `--modules-address`.
 */
import { isIP, isIPv6 } from "node:net";
import type { Endpoint, ModulesBaseUrl, SocketAddress } from "./model";

// RFC 1123 hostnames (same pattern as src/net/host-port.ts).
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const PORT = /^[0-9]{1,5}$/;

type Parsed<T> = { value: T } | { error: string };

function split(text: string, example: string): Parsed<{ host: string; portText: string }> {
  const expected = `expected HOST:PORT like ${example}, got ${JSON.stringify(text)}`;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0 || text[close + 1] !== ":") return { error: expected };
    const host = text.slice(1, close);
    if (!isIPv6(host)) return { error: `${expected} (${JSON.stringify(host)} is not an IPv6 address)` };
    return { value: { host, portText: text.slice(close + 2) } };
  }
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return { error: expected };
  const host = text.slice(0, colon);
  if (host.includes(":")) return { error: `${expected} (put IPv6 addresses in brackets, e.g. [::1]:8080)` };
  return { value: { host, portText: text.slice(colon + 1) } };
}

function port(text: string, whole: string): Parsed<number> {
  const n = Number(text);
  if (!PORT.test(text) || n < 1 || n > 65535) {
    return { error: `expected a port from 1 to 65535 in ${JSON.stringify(whole)}` };
  }
  return { value: n };
}

/** A listener address: an IP literal and a port. */
export function parseListenAddress(text: string): Parsed<SocketAddress> {
  const parts = split(text, "0.0.0.0:10000");
  if ("error" in parts) return parts;
  if (isIP(parts.value.host) === 0) {
    return {
      error: `expected an IP address (Envoy listeners bind IP addresses, not names), got ${JSON.stringify(parts.value.host)}`,
    };
  }
  const p = port(parts.value.portText, text);
  if ("error" in p) return p;
  return { value: { host: parts.value.host, port: p.value } };
}

/** A cluster endpoint: an IP literal or a DNS name, and a port. */
export function parseEndpoint(text: string): Parsed<Endpoint> {
  const parts = split(text, "127.0.0.1:8080");
  if ("error" in parts) return parts;
  const { host } = parts.value;
  if (isIP(host) === 0 && !HOSTNAME.test(host)) {
    return { error: `expected a hostname or IP address, got ${JSON.stringify(host)}` };
  }
  const p = port(parts.value.portText, text);
  if ("error" in p) return p;
  return { value: { host, port: p.value } };
}

/**
 * `server.modulesBaseUrl`: plain http only, because the module cluster is
 * added without a TLS transport socket (the module's integrity comes from its
 * sha256, which Envoy checks; docs/ENVOY.md "Wasm filter configuration").
 */
export function parseModulesBaseUrl(text: string): Parsed<ModulesBaseUrl> {
  const expected = `expected an http:// URL like http://wasmxds.internal:18002, got ${JSON.stringify(text)}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: expected };
  }
  if (url.protocol !== "http:") return { error: `${expected} (only http is supported)` };
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    return { error: `${expected} (no credentials, query or fragment)` };
  }
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const basePath = url.pathname.replace(/\/+$/, "");
  return { value: { host, port: url.port === "" ? 80 : Number(url.port), basePath } };
}

/** A stable key for duplicate detection (`::1` and `0:0:0:0:0:0:0:1` are one address). */
export function addressKey(address: SocketAddress): string {
  const host = isIPv6(address.host) ? new URL(`http://[${address.host}]/`).hostname : address.host;
  return `${host}:${address.port}`;
}
