/**
 * Where the admin token comes from, for the server (`serve`/`dev`) and the
 * CLI clients (`status`, `rollout`, `explain`) alike: `--admin-token-file
 * FILE`, else the `WASMXDS_ADMIN_TOKEN` variable. The file is read once, at
 * start (a changed token needs a restart; SECURITY.md, "Admin API").
 */
import { readFileSync } from "node:fs";
import { WasmxdsError, errorMessage } from "../errors";

export const ADMIN_TOKEN_ENV = "WASMXDS_ADMIN_TOKEN";

/** Reads a token file, trimmed; an unreadable or empty file is a USAGE error naming it. */
export function readAdminTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new WasmxdsError("USAGE", `--admin-token-file ${file}: cannot read the admin token: ${errorMessage(err)}`, { cause: err });
  }
  const token = text.trim();
  if (token === "") throw new WasmxdsError("USAGE", `--admin-token-file ${file}: the file is empty; expected the admin token`);
  if (/\s/.test(token)) throw new WasmxdsError("USAGE", `--admin-token-file ${file}: expected one token without spaces or line breaks inside`);
  return token;
}

/** The token from the file when given, else from the environment (trimmed; empty counts as unset); undefined when neither. */
export function resolveAdminToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (file !== undefined) return readAdminTokenFile(file);
  const fromEnv = env[ADMIN_TOKEN_ENV]?.trim();
  if (fromEnv === undefined || fromEnv === "") return undefined;
  if (/\s/.test(fromEnv)) throw new WasmxdsError("USAGE", `${ADMIN_TOKEN_ENV}: expected one token without spaces inside`);
  return fromEnv;
}
