/**
 * The authenticated admin API (issue 15, SECURITY.md "Admin API"), over real
 * HTTP against the running control plane and real `wasmxds` CLI runs: with
 * a token, every mutating call without it is a 401 that changes nothing
 * (rollout pause, rollout abort, quarantine clear) and works with it; a
 * cross-origin form POST is refused; reads stay open unless
 * `--admin-auth reads`.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { runCli } from "../helpers/cli-process";
import { testClock } from "../helpers/clock";
import { makeFolder, removeFolder, rolloutYaml, writeVersion } from "../helpers/config-folder";
import { startTestApp } from "../helpers/app";

const TOKEN = "s3cret-admin-token-0123456789";
const SLOW_STEPS = `        - { nodes: 2, bake: 60s }
        - { percent: 100 }`;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: { error?: string; status?: number } & Record<string, unknown>;
}

async function call(app: RunningWasmxds, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${app.adminAddress!.port}${path}`, { method, headers, ...(body !== undefined && { body }) });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Answer["json"] };
}

const JSON_TYPE = { "content-type": "application/json" };
const BEARER = { ...JSON_TYPE, authorization: `Bearer ${TOKEN}` };

function expect401(got: Answer): void {
  expect(got.status).toBe(401);
  expect(got.headers.get("www-authenticate")).toMatch(/^Bearer/);
  expect(got.json).toMatchObject({ status: 401 });
  expect(got.json.error).toMatch(/needs the admin token: expected 'Authorization: Bearer <token>'/);
}

describe("admin API with --admin-token-file", () => {
  let dir: string;
  let app: RunningWasmxds;
  let tokenFile: string;
  let v2: string;
  const admin = () => `127.0.0.1:${app.adminAddress!.port}`;
  const active = () => app.rollouts.rollouts("guard").active;

  beforeAll(async () => {
    ({ dir } = await makeFolder(rolloutYaml({ steps: SLOW_STEPS })));
    tokenFile = join(dir, "admin-token");
    await writeFile(tokenFile, `  ${TOKEN}\n`);
    // The control plane's clock stands still: the rollout moves only by admin calls.
    app = await startTestApp(dir, { clock: testClock(), adminAccess: { token: TOKEN } });
    v2 = await writeVersion(dir, "v2", rolloutYaml({ steps: SLOW_STEPS }));
    expect((await app.reload()).ok).toBe(true);
    expect(active()?.candidate.sha256).toBe(v2);
  });
  afterAll(async () => {
    await app.close();
    await removeFolder(dir);
  });

  it("refuses rollout pause without the token, or with a wrong one, and changes nothing; pauses with it", async () => {
    expect401(await call(app, "POST", "/v1/rollouts/guard/pause", JSON_TYPE));
    expect401(await call(app, "POST", "/v1/rollouts/guard/pause", { ...JSON_TYPE, authorization: "Bearer not-the-token" }));
    expect401(await call(app, "POST", "/v1/rollouts/guard/pause", { ...JSON_TYPE, authorization: `Basic ${TOKEN}` }));
    expect(active()?.pausedBakedMs).toBeNull();
    expect(app.events.list({ types: ["rollout-paused"] })).toEqual([]);
    const ok = await call(app, "POST", "/v1/rollouts/guard/pause", BEARER);
    expect(ok.status).toBe(200);
    expect(active()?.pausedBakedMs).not.toBeNull();
  });

  it("keeps reads open (default --admin-auth writes)", async () => {
    const got = await call(app, "GET", "/v1/rollouts/guard");
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ filter: "guard" });
  });

  it("`wasmxds rollout abort` is refused without the token and works with --admin-token-file", async () => {
    const refused = runCli(["rollout", "abort", "guard", "--admin-address", admin()], { WASMXDS_ADMIN_TOKEN: "" });
    await expect(refused).rejects.toThrow(/401 .*needs the admin token.*pass --admin-token-file FILE or set WASMXDS_ADMIN_TOKEN/s);
    expect(active()?.candidate.sha256).toBe(v2);
    expect(app.versions.quarantined("guard")).toEqual([]);
    const out = await runCli(["rollout", "abort", "guard", "--admin-address", admin(), "--admin-token-file", tokenFile, "--json"], { WASMXDS_ADMIN_TOKEN: "" });
    expect(JSON.parse(out)).toMatchObject([{ filter: "guard" }]);
    expect(active()).toBeUndefined();
    expect(app.versions.quarantined("guard").map((q) => q.sha256)).toEqual([v2]);
  });

  it("`wasmxds status` sends the token from WASMXDS_ADMIN_TOKEN", async () => {
    const out = await runCli(["status", "--admin-address", admin(), "--json"], { WASMXDS_ADMIN_TOKEN: TOKEN });
    expect(JSON.parse(out)).toMatchObject({ filters: [{ name: "guard" }] });
  });

  it("refuses a cross-origin form POST, with or without the token, and clears nothing", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" };
    expect401(await call(app, "POST", "/v1/filters/guard/quarantine/clear", form, "sha256="));
    const withToken = await call(app, "POST", "/v1/filters/guard/quarantine/clear", { ...BEARER, origin: "http://evil.example" }, "{}");
    expect(withToken.status).toBe(403);
    expect(withToken.json.error).toMatch(/cross-origin request refused: Origin "http:\/\/evil.example" is not the admin API's own/);
    expect(app.versions.quarantined("guard").map((q) => q.sha256)).toEqual([v2]);
  });

  it("refuses quarantine clear without the token and changes nothing; clears with it", async () => {
    expect401(await call(app, "POST", "/v1/filters/guard/quarantine/clear", JSON_TYPE, "{}"));
    expect(app.versions.quarantined("guard").map((q) => q.sha256)).toEqual([v2]);
    expect(app.events.list({ types: ["quarantine-cleared"] })).toEqual([]);
    // A same-origin Origin (the admin API's own address, or localhost for it) is accepted.
    const origin = `http://localhost:${app.adminAddress!.port}`;
    const ok = await call(app, "POST", "/v1/filters/guard/quarantine/clear", { ...BEARER, origin }, "{}");
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ filter: "guard", cleared: [expect.stringContaining(v2)] });
    expect(app.versions.quarantined("guard")).toEqual([]);
  });
});

describe("admin API without a token (loopback)", () => {
  let dir: string;
  let app: RunningWasmxds;

  beforeAll(async () => {
    ({ dir } = await makeFolder(rolloutYaml({ steps: SLOW_STEPS })));
    app = await startTestApp(dir, { clock: testClock() });
    await writeVersion(dir, "v2", rolloutYaml({ steps: SLOW_STEPS }));
    expect((await app.reload()).ok).toBe(true);
  });
  afterAll(async () => {
    await app.close();
    await removeFolder(dir);
  });

  it("refuses a cross-origin form POST (403) and a form or untyped POST without Origin (415); nothing changes", async () => {
    const evil = await call(app, "POST", "/v1/rollouts/guard/abort", { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" }, "x=1");
    expect(evil.status).toBe(403);
    const form = await call(app, "POST", "/v1/rollouts/guard/abort", { "content-type": "application/x-www-form-urlencoded" }, "x=1");
    expect(form.status).toBe(415);
    const text = await call(app, "POST", "/v1/rollouts/guard/abort", { "content-type": "text/plain" }, "{}");
    expect(text.status).toBe(415);
    // No body and no content type: still refused, a JSON type is required on every mutating call.
    const bare = await call(app, "POST", "/v1/rollouts/guard/abort");
    expect(bare.status).toBe(415);
    expect(bare.json.error).toMatch(/^POST with no content type; expected application\/json/);
    // A sandboxed page sends Origin: null; another port of the same host is another origin.
    const sandboxed = await call(app, "POST", "/v1/rollouts/guard/abort", { ...JSON_TYPE, origin: "null" });
    expect(sandboxed.status).toBe(403);
    const otherPort = await call(app, "POST", "/v1/rollouts/guard/abort", { ...JSON_TYPE, origin: `http://127.0.0.1:${app.adminAddress!.port + 1}` });
    expect(otherPort.status).toBe(403);
    expect(app.rollouts.rollouts("guard").active).toBeDefined();
    expect(app.versions.quarantined("guard")).toEqual([]);
    const ok = await call(app, "POST", "/v1/rollouts/guard/pause", JSON_TYPE);
    expect(ok.status).toBe(200);
  });
});

describe("admin API with --admin-auth reads", () => {
  let dir: string;
  let app: RunningWasmxds;

  beforeAll(async () => {
    ({ dir } = await makeFolder(rolloutYaml({ steps: SLOW_STEPS })));
    app = await startTestApp(dir, { clock: testClock(), adminAccess: { token: TOKEN, auth: "reads" } });
  });
  afterAll(async () => {
    await app.close();
    await removeFolder(dir);
  });

  it("needs the token for reads too", async () => {
    expect401(await call(app, "GET", "/v1/filters"));
    const ok = await call(app, "GET", "/v1/filters", { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ filters: [{ name: "guard" }] });
  });

  it("`wasmxds status` reads with the token and is refused without it", async () => {
    const admin = `127.0.0.1:${app.adminAddress!.port}`;
    await expect(runCli(["status", "--admin-address", admin], { WASMXDS_ADMIN_TOKEN: "" })).rejects.toThrow(/401/);
    const out = await runCli(["status", "--admin-address", admin, "--json"], { WASMXDS_ADMIN_TOKEN: TOKEN });
    expect(JSON.parse(out)).toMatchObject({ filters: [{ name: "guard" }] });
  });
});
