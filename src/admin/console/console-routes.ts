/**
 * The web console (docs/CONSOLE.md): GET / serves a page, its script and its
 * style sheet, built into dist/console/ by scripts/build.mjs (the script is
 * compiled from src/admin/console/client/). The files hold no data and no
 * token: everything the page shows it reads from the documented /v1 API
 * with the operator's own token, so they are public routes (readable
 * without the token even with `--admin-auth reads`).
 *
 * Headers: a Content-Security-Policy allowing only this origin's script,
 * style and fetches (no inline script, no framing), nosniff, no referrer.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../../package-root";
import type { AdminResponse, AdminRouter } from "../admin-server";

/** Where the build puts the console's files. */
export const CONSOLE_DIR = join(PACKAGE_ROOT, "dist", "console");

export const CONSOLE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
});

const FILES: ReadonlyArray<{ readonly path: string; readonly file: string; readonly type: string }> = [
  { path: "/", file: "index.html", type: "text/html; charset=utf-8" },
  { path: "/console/app.js", file: "app.js", type: "text/javascript; charset=utf-8" },
  { path: "/console/style.css", file: "style.css", type: "text/css; charset=utf-8" },
];

async function serveFile(dir: string, file: string, type: string): Promise<AdminResponse> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(join(dir, file));
  } catch {
    return {
      status: 503,
      text: `the console is not built: ${join(dir, file)} is missing; run npm run build (npm ci runs it)\n`,
      headers: CONSOLE_HEADERS,
    };
  }
  return { text: bytes, contentType: type, headers: CONSOLE_HEADERS };
}

export function addConsoleRoutes(router: AdminRouter, dir = CONSOLE_DIR): AdminRouter {
  for (const f of FILES) router.add("GET", f.path, () => serveFile(dir, f.file, f.type), { public: true });
  return router;
}
