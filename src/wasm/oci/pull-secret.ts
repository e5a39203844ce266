/**
 * `pullSecret:` files: Docker's config.json (`docker login` writes it;
 * Kubernetes' kubernetes.io/dockerconfigjson secrets hold the same JSON).
 * Only `auths` is read: `auth` (base64 of user:password) or `username` and
 * `password`. Credential helpers (`credsStore`, `credHelpers`) run programs
 * and are not supported; `identitytoken` (an OAuth refresh token) neither.
 * The file is read on every pull, so a rotated secret is used at the next
 * reload, and its contents never appear in errors or logs.
 */
import { readFile, stat } from "node:fs/promises";
import { ModuleError, errorMessage } from "../../errors";

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

const MAX_SECRET_BYTES = 1024 * 1024;

/**
 * The credentials `file` holds for `registry` (host[:port]), or undefined
 * when it has none for that registry. `label` names the file in errors.
 */
export async function readPullSecret(file: string, registry: string, label: string): Promise<Credentials | undefined> {
  const bad = (why: string, cause?: unknown) => new ModuleError("MODULE_FETCH_FAILED", `pullSecret ${label}: ${why}`, { cause });
  let text: string;
  try {
    const s = await stat(file);
    if (s.size > MAX_SECRET_BYTES) throw bad(`${s.size} bytes, over the ${MAX_SECRET_BYTES}-byte limit of a docker config.json`);
    text = await readFile(file, "utf8");
  } catch (err) {
    if (err instanceof ModuleError) throw err;
    throw bad(`cannot read it: ${errorMessage(err)}`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw bad("expected docker config.json (JSON), and it does not parse", err);
  }
  const auths = isRecord(json) ? json.auths : undefined;
  if (!isRecord(auths)) throw bad('expected docker config.json with an "auths" object');
  for (const [key, entry] of Object.entries(auths)) {
    if (registryOfKey(key) !== registryOfKey(registry) || !isRecord(entry)) continue;
    if (typeof entry.auth === "string" && entry.auth !== "") {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) throw bad(`auths["${key}"].auth: expected base64 of user:password`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (typeof entry.username === "string" && typeof entry.password === "string") return { username: entry.username, password: entry.password };
    if (typeof entry.identitytoken === "string") throw bad(`auths["${key}"]: identitytoken is not supported; give auth or username and password`);
    throw bad(`auths["${key}"]: expected auth, or username and password`);
  }
  return undefined;
}

/** `https://index.docker.io/v1/`, `registry.example.com:5000`, `http://host/` → the API host. */
function registryOfKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
  return host === "index.docker.io" || host === "docker.io" ? "registry-1.docker.io" : host;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
