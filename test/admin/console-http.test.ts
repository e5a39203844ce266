/**
 * The console's server side over plain HTTP (no browser): the page, script
 * and style sheet with their security headers, readable without the token
 * even under `--admin-auth reads` while every /v1 read still needs it; the
 * token never in what is served; the admin token and Origin checks still
 * hold for mutating calls; and the API the console reads: GET /v1/nodes
 * paged and searched, GET /v1/nodes/<id>, GET /v1/fleet.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import type { SimFleet } from "../../src/sim";
import { buildConsole } from "../../scripts/build-console.mjs";
import { startTestApp } from "../helpers/app";
import { testClock } from "../helpers/clock";
import { FAST_STEPS, makeFolder, rolloutYaml } from "../helpers/config-folder";
import { cleanup, startFleet } from "../helpers/fleet";

const TOKEN = "console-token-0123456789abcdef";

describe("console routes and the API it reads", () => {
  let dir: string;
  let app: RunningWasmxds;
  let fleet: SimFleet;
  let v1: string;
  let base: string;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    await buildConsole();
    ({ dir, v1 } = await makeFolder(rolloutYaml({ steps: FAST_STEPS })));
    app = await startTestApp(dir, { clock: testClock(), adminAccess: { token: TOKEN, auth: "reads" } });
    base = `http://127.0.0.1:${app.adminAddress!.port}`;
    fleet = await startFleet(app.xdsAddress.port);
  });
  afterAll(() => cleanup(fleet, app, dir));

  it("serves the page, script and style sheet without the token, with security headers and no token inside", async () => {
    for (const [path, type] of [
      ["/", "text/html"],
      ["/console/app.js", "text/javascript"],
      ["/console/style.css", "text/css"],
    ] as const) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toContain(type);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(await res.text()).not.toContain(TOKEN);
    }
    const html = await (await fetch(`${base}/`)).text();
    // No inline script: the only script is the same-origin file.
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="/console/app.js">']);
  });

  it("keeps every /v1 read behind the token under --admin-auth reads", async () => {
    expect((await fetch(`${base}/v1/nodes`)).status).toBe(401);
    expect((await fetch(`${base}/v1/fleet`)).status).toBe(401);
    // A public path spelled with a query or a different case is not a way around it.
    expect((await fetch(`${base}/V1/nodes`)).status).toBe(401);
    expect((await fetch(`${base}/v1/nodes`, { headers: auth })).status).toBe(200);
  });

  it("refuses a mutating call from another origin even with the token, and one without the token from its own origin", async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/v1/rollouts/guard/pause`, { method: "POST", headers: { "content-type": "application/json", ...headers } });
    const foreign = await post({ ...auth, origin: "http://127.0.0.1:1" });
    expect(foreign.status).toBe(403);
    const own = await post({ origin: base });
    expect(own.status).toBe(401);
    // With the token and the console's own origin it reaches the route (409: no rollout is running).
    expect((await post({ ...auth, origin: base })).status).toBe(409);
    expect((await fetch(`${base}/`, { method: "POST", headers: { "content-type": "application/json", origin: base } })).status).toBe(401);
  });

  it("pages and searches GET /v1/nodes, matching before it builds views", async () => {
    const page = async (q: string) => (await (await fetch(`${base}/v1/nodes?${q}`, { headers: auth })).json()) as { total: number; offset: number; limit: number | null; nodes: Array<{ id: string; cluster: string }> };
    const all = await page("");
    expect(all.total).toBe(20);
    expect(all.nodes).toHaveLength(20);
    expect(all.limit).toBeNull();
    const second = await page("limit=5&offset=5");
    expect(second).toMatchObject({ total: 20, offset: 5, limit: 5 });
    expect(second.nodes.map((n) => n.id)).toEqual(all.nodes.slice(5, 10).map((n) => n.id));
    const core = await page("q=CORE");
    expect(core.total).toBe(4);
    expect(core.nodes.every((n) => n.cluster === "core")).toBe(true);
    expect((await page("q=ring%3Dcanary")).nodes.map((n) => n.id)).toEqual(["n3", "n7"]);
    for (const bad of ["limit=0", "limit=1001", "offset=-1", "limit=abc", `q=${"x".repeat(201)}`]) {
      const res = await fetch(`${base}/v1/nodes?${bad}`, { headers: auth });
      expect(res.status, bad).toBe(400);
    }
  });

  it("answers GET /v1/nodes/<id> and 404 for a node that is not connected", async () => {
    const res = await fetch(`${base}/v1/nodes/n3`, { headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: "n3", cluster: "edge", metadata: { ring: "canary" } });
    expect((await fetch(`${base}/v1/nodes/nobody`, { headers: auth })).status).toBe(404);
  });

  it("counts the nodes on each version of each filter in GET /v1/fleet", async () => {
    const fleetView = (await (await fetch(`${base}/v1/fleet`, { headers: auth })).json()) as {
      nodes: number;
      filters: Array<{ name: string; notSelected: number; versions: Array<{ sha256: string; nodes: number; acked: number; status: string }> }>;
    };
    expect(fleetView.nodes).toBe(20);
    const guard = fleetView.filters.find((f) => f.name === "guard")!;
    // The selector (cluster edge) leaves out the 4 core nodes.
    expect(guard.notSelected).toBe(4);
    expect(guard.versions).toHaveLength(1);
    expect(guard.versions[0]).toMatchObject({ sha256: v1, nodes: 16, acked: 16 });
  });
});
