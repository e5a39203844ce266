/**
 * A small client of the admin API for CLI commands (`status`, `rollout`).
 */
import { WasmxdsError, errorMessage } from "../errors";
import { type HostPort, formatHostPort } from "../net/host-port";

export class AdminClient {
  constructor(private readonly at: HostPort) {}

  get base(): string {
    return `http://${formatHostPort(this.at)}`;
  }

  async get<T>(path: string): Promise<T> {
    return this.call<T>("GET", path);
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>("POST", path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        ...(body !== undefined && { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
      });
    } catch (err) {
      throw new WasmxdsError("ADDRESS_INVALID", `cannot reach the admin API at ${this.base} (is wasmxds running? --admin-address): ${errorMessage(err)}`);
    }
    const data = (await res.json().catch(() => ({}))) as T & { error?: string };
    if (!res.ok) throw new WasmxdsError("USAGE", `${method} ${path}: ${res.status} ${data.error ?? res.statusText}`);
    return data;
  }
}
