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

/**
 * Follows a text/event-stream (GET /v1/events/stream) with fetch, which,
 * unlike EventSource, can send the Authorization header. Calls `onData`
 * with each event's data; resolves when the stream ends, rejects when it
 * cannot be opened or breaks.
 */
export async function followStream(path: string, signal: AbortSignal, onData: (data: string) => void): Promise<void> {
  const res = await fetch(path, { headers: { ...headers(false), accept: "text/event-stream" }, signal, cache: "no-store" });
  if (!res.ok || !res.body) throw new ApiError(res.status, `GET ${path}: ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    let end = buffered.indexOf("\n\n");
    while (end >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6))
        .join("\n");
      if (data) onData(data);
      end = buffered.indexOf("\n\n");
    }
  }
}
