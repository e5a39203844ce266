/**
 * The registry's 401 challenge (RFC 7235 WWW-Authenticate), as the
 * distribution registry sends it: `Basic realm="..."` for htpasswd, or
 * `Bearer realm="https://auth/token",service="registry",scope="repository:x:pull"`
 * for the Docker token flow (distribution's docs/spec/auth/token.md).
 */

export interface Challenge {
  /** Lowercase: "basic" or "bearer" (others are reported as unsupported). */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

const MAX_HEADER = 8192;

/** The first challenge of the header; undefined when there is none. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (header === undefined || header.length > MAX_HEADER) return undefined;
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (!m?.[1]) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))\s*,?\s*/gy;
  const rest = m[2] ?? "";
  let p: RegExpExecArray | null;
  // biome-ignore lint/suspicious/noAssignInExpressions: a sticky regex walks the parameter list
  while ((p = re.exec(rest)) !== null) {
    const key = (p[1] ?? "").toLowerCase();
    if (!(key in params)) params[key] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
  }
  return { scheme: m[1].toLowerCase(), params };
}
