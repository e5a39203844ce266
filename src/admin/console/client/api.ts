/// <reference lib="dom" />
/**
 * The console's only way to the server: the documented admin API (/v1),
 * same origin. The admin token is never in the page the server sends; the
 * operator pastes it, it stays in this tab's sessionStorage, and it goes out
 * as `Authorization: Bearer` (the admin API's own check, admin-auth.ts).
 * Mutating calls send `content-type: application/json`, which the server
 * requires (a cross-site form cannot send it without a CORS preflight the
 * server never answers).
 */

const TOKEN_KEY = "wasmxds-admin-token";

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value === null || value.trim() === "") sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, value.trim());
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(json: boolean): Record<string, string> {
  const t = token();
  return { accept: "application/json", ...(json && { "content-type": "application/json" }), ...(t !== null && { authorization: `Bearer ${t}` }) };
}

async function answer<T>(res: Response, what: string): Promise<T> {
  const body = (await res.json().catch(() => null)) as (T & { error?: string }) | null;
  if (!res.ok) {
    const why = body && typeof body.error === "string" ? body.error : res.statusText;
    throw new ApiError(res.status, `${what}: ${res.status} ${why}`);
  }
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: headers(false), cache: "no-store" });
  return answer<T>(res, `GET ${path}`);
}

export async function postJson<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, { method: "POST", headers: headers(true), ...(body !== undefined && { body: JSON.stringify(body) }) });
  return answer<T>(res, `POST ${path}`);
}
