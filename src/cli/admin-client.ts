/**
 * A small client of the admin API for CLI commands (`status`, `rollout`,
 * `explain`), and the argument parsing they share.
 */
import { parseArgs } from "node:util";
import { resolveAdminToken } from "../admin/admin-token";
import { WasmxdsError, errorMessage } from "../errors";
import { type HostPort, formatHostPort, parseHostPort } from "../net/host-port";

export class AdminClient {
  constructor(
    private readonly at: HostPort,
    /** Sent as `Authorization: Bearer <token>` on every call (`--admin-token-file`, WASMXDS_ADMIN_TOKEN). */
    private readonly token?: string,
  ) {}

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
      // A mutating call carries a JSON content type even without a body: the server requires it (SECURITY.md).
      const headers: Record<string, string> = {
        ...(method !== "GET" && { "content-type": "application/json" }),
        ...(this.token !== undefined && { authorization: `Bearer ${this.token}` }),
      };
      res = await fetch(`${this.base}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    } catch (err) {
      throw new WasmxdsError("ADDRESS_INVALID", `cannot reach the admin API at ${this.base} (is wasmxds running? --admin-address): ${errorMessage(err)}`);
    }
    const data = (await res.json().catch(() => ({}))) as T & { error?: string };
    if (res.status === 401) {
      const hint = this.token === undefined ? "; pass --admin-token-file FILE or set WASMXDS_ADMIN_TOKEN" : "";
      throw new WasmxdsError("USAGE", `${method} ${path}: 401 ${data.error ?? res.statusText}${hint}`);
    }
    if (!res.ok) throw new WasmxdsError("USAGE", `${method} ${path}: ${res.status} ${data.error ?? res.statusText}`);
    return data;
  }
}

/** What every admin-API command takes: the address, `--json`, the positionals, and any options of its own. */
export interface AdminCommandArgs<Extra extends Record<string, string | boolean>> {
  readonly admin: AdminClient;
  readonly json: boolean;
  readonly positionals: readonly string[];
  readonly values: Extra;
}

type OptionSpec = { readonly type: "string"; readonly default: string } | { readonly type: "boolean"; readonly default: boolean };

/**
 * Parses an admin-API command's arguments (`--admin-address`,
 * `--admin-token-file` or WASMXDS_ADMIN_TOKEN, `--json`, plus `extra`) once, for `status`, `rollout` and `explain`; a bad argument is a
 * USAGE error.
 */
export function parseAdminCommand<Extra extends Record<string, string | boolean> = Record<never, never>>(
  argv: readonly string[],
  defaultAddress: string,
  extra: Readonly<Record<keyof Extra & string, OptionSpec>> = {} as Readonly<Record<keyof Extra & string, OptionSpec>>,
): AdminCommandArgs<Extra> {
  let parsed: { values: Record<string, string | boolean>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        "admin-address": { type: "string", default: defaultAddress },
        "admin-token-file": { type: "string" },
        json: { type: "boolean", default: false },
        ...extra,
      },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    throw new WasmxdsError("USAGE", (err as Error).message);
  }
  const { "admin-address": address, "admin-token-file": tokenFile, json, ...rest } = parsed.values;
  const token = resolveAdminToken(typeof tokenFile === "string" ? tokenFile : undefined);
  return {
    admin: new AdminClient(parseHostPort(String(address), "--admin-address"), token),
    json: json === true,
    positionals: parsed.positionals,
    values: rest as Extra,
  };
}
