/**
 * Everything the admin API takes from a client, checked at the edge: the
 * request target (path and query percent-encoding), and the body (size,
 * content type, UTF-8, JSON). Each bad input is a 4xx with a message that
 * says what was expected, never a 500 (a malformed `%E0%A4%A` in a path
 * was one) and never a hang (docs/RELIABILITY.md, "Admin API and event log").
 */
import type { IncomingMessage } from "node:http";
import { AdminHttpError } from "./admin-error";

/** Largest request body read; larger ones are refused with 413 before reading. */
export const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

/** Shown in messages: enough to recognise the input, never a megabyte of it. */
function excerpt(text: string, max = 80): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** The request target as a URL (path and query), or 400. */
export function parseTarget(rawUrl: string): URL {
  let url: URL;
  try {
    url = new URL(rawUrl, "http://admin");
  } catch {
    throw new AdminHttpError(400, `malformed request target ${excerpt(rawUrl)}; expected a path such as /v1/filters`);
  }
  // URLSearchParams decodes leniently; a broken escape in the query is refused like one in the path.
  if (url.search) decodeComponent(url.search.slice(1).replace(/\+/g, " "), "query string");
  return url;
}

/** decodeURIComponent, with a 400 naming the input instead of a URIError. */
export function decodeComponent(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new AdminHttpError(
      400,
      `malformed percent-encoding in the ${what} ${excerpt(raw)}; expected %XX escapes that spell UTF-8 text (e.g. %20 for a space)`,
    );
  }
}

/**
 * Media types accepted on a mutating call, with or without a body: a JSON
 * type is required (none given is refused too), because a web page can send
 * a form or text/plain POST without a CORS preflight but not a JSON one
 * (SECURITY.md, "Admin API").
 */
function isJsonType(contentType: string | undefined): boolean {
  const type = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || (type.endsWith("+json") && type.includes("/"));
}

/**
 * The JSON body of a request that may carry one (not GET or HEAD), or
 * undefined when it is empty. Throws AdminHttpError 413, 415 (any such
 * request without a JSON content type, even an empty one) or 400.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes = MAX_ADMIN_BODY_BYTES): Promise<unknown> {
  if (req.method === "GET" || req.method === "HEAD") return undefined;
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw new AdminHttpError(413, `request body of ${declared} bytes; expected at most ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) throw new AdminHttpError(413, `request body over ${maxBytes} bytes; expected at most ${maxBytes}`);
    chunks.push(buf);
  }
  const contentType = req.headers["content-type"];
  if (!isJsonType(contentType)) {
    const got = contentType === undefined ? "no content type" : `content type ${excerpt(contentType)}`;
    throw new AdminHttpError(415, `${req.method} with ${got}; expected application/json (curl: -H 'content-type: application/json')`);
  }
  if (size === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks, size));
  } catch {
    throw new AdminHttpError(400, "request body is not UTF-8 text; expected JSON");
  }
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AdminHttpError(400, `request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}
