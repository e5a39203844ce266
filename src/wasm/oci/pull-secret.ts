/**
 * `pullSecret:` files: Docker's config.json (`docker login` writes it;
 * Kubernetes' kubernetes.io/dockerconfigjson secrets hold the same JSON).
 * Only `auths` is read: `auth` (base64 of user:password) or `username` and
 * `password`. Credential helpers (`credsStore`, `credHelpers`) run programs
 * and are not supported; `identitytoken` (an OAuth refresh token) neither.
 * The caller reads the file (a config-folder file, with that folder's rules)
 * on every pull, so a rotated secret is used at the next reload; its
 * contents never appear in errors or logs.
 */
import { ModuleError } from "../../errors";

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** The largest pullSecret file read (a docker config.json is a few hundred bytes). */
export const MAX_PULL_SECRET_BYTES = 1024 * 1024;

/** Where a pullSecret comes from: how errors name it, and how to read it (only when a pull needs it). */
export interface PullSecretSource {
  readonly label: string;
  readonly read: () => Promise<string>;
}

/**
 * The credentials the pullSecret holds for `registry` (host[:port]), or
 * undefined when it has none for that registry.
 */
export async function readPullSecret(secret: PullSecretSource, registry: string): Promise<Credentials | undefined> {
  const bad = (why: string, cause?: unknown) => new ModuleError("MODULE_FETCH_FAILED", `pullSecret ${secret.label}: ${why}`, { cause });
  const text = await secret.read();
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
