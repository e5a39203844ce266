/**
 * Who may use the admin API (SECURITY.md, "Admin API"). The admin API steers
 * rollouts and clears quarantines, so a mutating call needs the bearer token
 * (when one is set), a JSON content type and a same-origin or absent Origin:
 * a web page in an operator's browser can send a form POST to 127.0.0.1, but
 * it cannot set an Authorization header, a JSON content type or a foreign
 * Origin without a CORS preflight this server never answers. Reads need the
 * token too with `--admin-auth reads`. Checked before the body is read.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { WasmxdsError } from "../errors";
import { type HostPort, formatHostPort } from "../net/host-port";
import { specialRange } from "../net/ip-ranges";
import { AdminHttpError } from "./admin-error";

/** `--admin-auth`: which calls need the token. */
export type AdminAuthScope = "writes" | "reads";
export const ADMIN_AUTH_SCOPES: readonly AdminAuthScope[] = ["writes", "reads"];

export interface AdminAccess {
  /** The bearer token (`--admin-token-file`, `WASMXDS_ADMIN_TOKEN`); undefined: no token is asked for. */
  readonly token?: string;
  /** `writes` (default): mutating calls need the token; `reads`: every call does. */
  readonly auth?: AdminAuthScope;
  /** `--admin-insecure`: allow a non-loopback address without a token. */
  readonly insecure?: boolean;
}

/** GET and HEAD read; every other method may change something. */
export function isMutating(method: string): boolean {
  return method !== "GET" && method !== "HEAD";
}

/** `localhost`, or an IP address in the loopback range (127/8, ::1, and their IPv4-mapped forms). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || (isIP(h) !== 0 && specialRange(h)?.startsWith("a loopback address") === true);
}

/**
 * Refuses to expose the admin API beyond this host without a token: a
 * USAGE error naming `--admin-token-file` and `--admin-insecure`.
 */
export function assertAdminExposure(at: HostPort, access: AdminAccess): void {
  if (access.token !== undefined || access.insecure === true || isLoopbackHost(at.host)) return;
  throw new WasmxdsError(
    "USAGE",
    `--admin-address ${formatHostPort(at)} is not a loopback address and no admin token is set: anyone who reaches it could steer rollouts and clear quarantines; ` +
      "set --admin-token-file FILE (or WASMXDS_ADMIN_TOKEN), or pass --admin-insecure to expose it without one",
  );
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Constant-time comparison: both sides hashed to 32 bytes, so neither length nor content leaks through timing. */
function tokenMatches(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/** The `host:port` an Origin header names, or null for one that is not an http(s) URL (`null`, garbage). */
function originHostPort(origin: string): string | null {
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    return `${url.hostname.replace(/^\[|\]$/g, "")}:${port}`;
  } catch {
    return null;
  }
}

/** `host:port` of an Origin names `own`; on loopback, localhost, 127.0.0.1 and [::1] are one host (DNS cannot rebind them). */
function sameHostPort(given: string, own: HostPort): boolean {
  const colon = given.lastIndexOf(":");
  const host = given.slice(0, colon).toLowerCase();
  if (given.slice(colon + 1) !== String(own.port)) return false;
  return host === own.host.toLowerCase() || (isLoopbackHost(own.host) && isLoopbackHost(host));
}

/**
 * The checks made on every request before its body is read; throws
 * AdminHttpError 401 (token) or 403 (Origin). The content type of a
 * mutating call is checked with its body (request-input.ts).
 */
export class AdminGate {
  private readonly expected: Buffer | undefined;
  private readonly scope: AdminAuthScope;

  constructor(
    access: AdminAccess,
    /** The address the admin API listens on (as given, and as bound with the real port): an Origin must name one. */
    private readonly addresses: () => readonly HostPort[],
  ) {
    this.expected = access.token === undefined ? undefined : digest(access.token);
    this.scope = access.auth ?? "writes";
  }

  check(req: IncomingMessage): void {
    const method = req.method ?? "GET";
    if (this.expected !== undefined && (isMutating(method) || this.scope === "reads")) this.checkToken(req);
    if (isMutating(method)) this.checkOrigin(req.headers.origin);
  }

  private checkToken(req: IncomingMessage): void {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    const why =
      header === undefined ? "no Authorization header" : match === null ? "an Authorization header that is not 'Bearer <token>'" : "a wrong token";
    if (match?.[1] !== undefined && tokenMatches(match[1], this.expected!)) return;
    throw new AdminHttpError(
      401,
      `${req.method ?? "GET"} needs the admin token: expected 'Authorization: Bearer <token>' (the token of --admin-token-file or WASMXDS_ADMIN_TOKEN), got ${why}`,
      { "www-authenticate": 'Bearer realm="wasmxds admin"' },
    );
  }

  private checkOrigin(origin: string | undefined): void {
    if (origin === undefined) return;
    const own = this.addresses();
    const given = originHostPort(origin);
    if (given !== null && own.some((a) => sameHostPort(given, a))) return;
    const names = [...new Set(own.map(formatHostPort))].join(" or ");
    throw new AdminHttpError(
      403,
      `cross-origin request refused: Origin ${JSON.stringify(origin.slice(0, 100))} is not the admin API's own ${names}; mutating calls accept only a same-origin or absent Origin`,
    );
  }
}
