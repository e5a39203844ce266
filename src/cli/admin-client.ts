/**
 * A small client of the admin API for CLI commands (`status`, `rollout`,
 * `explain`), and the argument parsing they share.
 */
import { parseArgs } from "node:util";
import { WasmxdsError, errorMessage } from "../errors";
import { type HostPort, formatHostPort, parseHostPort } from "../net/host-port";

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

/** What every admin-API command takes: the address, `--json`, the positionals, and any options of its own. */
export interface AdminCommandArgs<Extra extends Record<string, string | boolean>> {
  readonly admin: AdminClient;
  readonly json: boolean;
  readonly positionals: readonly string[];
  readonly values: Extra;
}

type OptionSpec = { readonly type: "string"; readonly default: string } | { readonly type: "boolean"; readonly default: boolean };

/**
 * Parses an admin-API command's arguments (`--admin-address`, `--json`, plus
 * `extra`) once, for `status`, `rollout` and `explain`; a bad argument is a
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
      options: { "admin-address": { type: "string", default: defaultAddress }, json: { type: "boolean", default: false }, ...extra },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    throw new WasmxdsError("USAGE", (err as Error).message);
  }
  const { "admin-address": address, json, ...rest } = parsed.values;
  return {
    admin: new AdminClient(parseHostPort(String(address), "--admin-address")),
    json: json === true,
    positionals: parsed.positionals,
    values: rest as Extra,
  };
}
