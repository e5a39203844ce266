/**
 * oci:// modules in the running control plane, against a real registry:
 * served like any other module (Envoys never talk to the registry), the
 * same pre-flight path, pullPolicy Always noticing a moved tag on reload and
 * on the --watch interval (fake clock), failures that keep the last good
 * module and show in `wasmxds status` and the admin API, and a restart that
 * needs no registry.
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { main as cli } from "../../src/cli/main";
import type { RunningWasmxds } from "../../src/main";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { startTestApp } from "../helpers/app";
import { testClock } from "../helpers/clock";
import { removeFolder, tempConfigFolder } from "../helpers/config-folder";
import { SKIP_REASON, type TestRegistry, registryAvailable, startRegistry, tarImage, wasmArtifact } from "../helpers/oci-registry";
import { memoryTerminal } from "../helpers/terminal";
import { waitFor } from "../helpers/wait";
import { fixture, variant } from "../helpers/wasm-bytes";

const v1 = fixture("good_http");
const v2 = variant(v1, "oci-v2");
const broken = fixture("abort_vm_start");

if (!registryAvailable) console.warn(`skipping OCI registry tests: ${SKIP_REASON}`);

function config(url: string, fields: readonly string[] = []): string {
  return `server: { allowPrivateFetch: true }
filters:
  - name: auth
    kind: http
    url: ${url}
    insecure: true
${fields.map((f) => `    ${f}\n`).join("")}listeners:
  - name: ingress
    address: 127.0.0.1:10000
    http: { filters: [auth], routes: [{ prefix: /, cluster: backend }] }
clusters:
  - name: backend
    endpoints: [127.0.0.1:8080]
`;
}

function httpGet(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    }).on("error", reject);
  });
}

describe.skipIf(!registryAvailable)("oci:// modules served by wasmxds", () => {
  let registry: TestRegistry;
  let dir: string | undefined;
  let app: RunningWasmxds | undefined;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });
  afterEach(async () => {
    await app?.close(0);
    app = undefined;
    if (dir) await removeFolder(dir);
    dir = undefined;
  });
  const repo = () => `filters/t${Math.random().toString(36).slice(2, 8)}`;
  const served = () => app?.publisher.published?.modules.get("auth");

  it("a pulled module is served from the module server like any other, and pre-flight checked", async () => {
    const r = repo();
    await registry.push(r, await tarImage({ "plugin.wasm": v1 }), "v0.0.1");
    dir = await tempConfigFolder({ "wasmxds.yaml": config(`oci://${registry.host}/${r}:v0.0.1`, ["code: remote"]) });
    app = await startTestApp(dir);
    expect(served()).toBe(sha256Hex(v1));
    expect(app.checks.history("auth")).toMatchObject([{ sha256: sha256Hex(v1), ok: true }]);
    const got = await httpGet(`http://127.0.0.1:${app.modulesAddress.port}/modules/${sha256Hex(v1)}.wasm`);
    expect(got.status).toBe(200);
    expect(got.body.equals(v1)).toBe(true);
    // What Envoys are sent names the module server, never the registry.
    const snapshot = app.publisher.published?.snapshot;
    const encoded = (snapshot?.typeUrls() ?? []).flatMap((t) => [...(snapshot?.type(t).resources.values() ?? [])].map((r) => r.bytes));
    expect(encoded.some((b) => b.includes(`/modules/${sha256Hex(v1)}.wasm`))).toBe(true);
    expect(encoded.some((b) => b.includes(registry.host) || b.includes("oci://"))).toBe(false);
    const pulls = (await (await fetch(`http://127.0.0.1:${app.adminAddress?.port}/v1/pulls`)).json()) as { pulls: unknown[] };
    expect(pulls.pulls).toMatchObject([{ reference: `oci://${registry.host}/${r}:v0.0.1`, pullPolicy: "IfNotPresent", filters: ["auth"], sha256: sha256Hex(v1) }]);
  });

  it("IfNotPresent keeps a moved tag; Always picks it up on reload; a digest reference never moves", async () => {
    const r = repo();
    const d1 = await registry.push(r, wasmArtifact(v1), "latest");
    dir = await tempConfigFolder({ "wasmxds.yaml": config(`oci://${registry.host}/${r}:latest`) });
    app = await startTestApp(dir);
    expect(served()).toBe(sha256Hex(v1));
    await registry.push(r, wasmArtifact(v2), "latest");
    expect((await app.reload()).ok).toBe(true);
    expect(served()).toBe(sha256Hex(v1));

    await writeFile(join(dir, "wasmxds.yaml"), config(`oci://${registry.host}/${r}:latest`, ["pullPolicy: Always"]));
    const changed = await app.reload();
    expect(changed.ok).toBe(true);
    expect(served()).toBe(sha256Hex(v2));
    expect(app.events.list({ types: ["module-changed"] }).at(-1)).toMatchObject({ details: { filter: "auth", from: sha256Hex(v1), to: sha256Hex(v2) } });
    expect(app.checks.history("auth").map((c) => c.sha256)).toContain(sha256Hex(v2));

    await writeFile(join(dir, "wasmxds.yaml"), config(`oci://${registry.host}/${r}@${d1}`, ["pullPolicy: Always"]));
    expect((await app.reload()).ok).toBe(true);
    expect(served()).toBe(sha256Hex(v1));
  });

  it("a moved Always tag under a rollout plan starts a rollout like a file change: base stays, the new module is the canary", async () => {
    const r = repo();
    await registry.push(r, wasmArtifact(v1), "v1");
    const yaml = config(`oci://${registry.host}/${r}:v1`, ["pullPolicy: Always", "rollout: { steps: [{ nodes: 1, bake: 60s }, { percent: 100 }] }"]);
    dir = await tempConfigFolder({ "wasmxds.yaml": yaml });
    app = await startTestApp(dir);
    expect(app.rollouts.rollouts("auth").stable?.sha256).toBe(sha256Hex(v1));
    await registry.push(r, wasmArtifact(v2), "v1");
    expect((await app.reload()).ok).toBe(true);
    expect(app.rollouts.rollouts("auth").active?.candidate.sha256).toBe(sha256Hex(v2));
    expect(served()).toBe(sha256Hex(v1));
    expect(app.publisher.published?.canaries.get("auth")?.module.sha256).toBe(sha256Hex(v2));
  });

  it("serve --watch: an Always tag moved in the registry is published on the interval, through pre-flight", async () => {
    const r = repo();
    await registry.push(r, wasmArtifact(v1), "stable");
    dir = await tempConfigFolder({ "wasmxds.yaml": config(`oci://${registry.host}/${r}:stable`, ["pullPolicy: Always"]) });
    const clock = testClock();
    app = await startTestApp(dir, { watch: true, clock, oci: { pollIntervalMs: 30_000 } });
    expect(served()).toBe(sha256Hex(v1));
    await registry.push(r, wasmArtifact(v2), "stable");
    clock.advance(29_000);
    await new Promise((res) => setTimeout(res, 200));
    expect(served()).toBe(sha256Hex(v1));
    clock.advance(1_000);
    await waitFor("the moved tag to be published", () => served() === sha256Hex(v2));

    // A module the pre-flight check refuses: the rebuild is rejected and v2 keeps being served.
    await registry.push(r, wasmArtifact(broken), "stable");
    clock.advance(30_000);
    const rejected = await waitFor("a rejection", () => app?.events.list({ types: ["rejected"] }).at(-1));
    expect(rejected.message).toMatch(new RegExp(`^filter "auth": module ${sha256Hex(broken).slice(0, 8)} rejected: pre-flight`));
    expect(served()).toBe(sha256Hex(v2));
  });

  it("a registry that goes down: Always keeps serving the last module with the error in status and /v1/pulls; a new reference is rejected; a restart pulls nothing", async () => {
    const r = repo();
    const ref = `oci://${registry.host}/${r}:v1`;
    await registry.push(r, wasmArtifact(v1), "v1");
    dir = await tempConfigFolder({ "wasmxds.yaml": config(ref, ["pullPolicy: Always"]) });
    app = await startTestApp(dir);
    expect(served()).toBe(sha256Hex(v1));
    const version = app.publisher.published?.snapshot.version;
    await registry.down();
    try {
      expect((await app.reload()).ok).toBe(true);
      expect(served()).toBe(sha256Hex(v1));
      expect(app.publisher.published?.snapshot.version).toBe(version);
      const warning = app.events.list({ types: ["warning"] }).at(-1);
      // The same failure on the next poll is not announced again.
      expect((await app.reload()).ok).toBe(true);
      expect(app.events.list({ types: ["warning"] })).toHaveLength(1);
      expect(warning?.message).toMatch(new RegExp(`^filter "auth": ${ref}: ${registry.host} unreachable: .*ECONNREFUSED.*; serving the module pulled before \\(sha256:[0-9a-f]{64}, sha256 ${sha256Hex(v1).slice(0, 12)}\\)$`));

      const term = memoryTerminal();
      expect(await cli(["status", "--admin-address", `127.0.0.1:${app.adminAddress?.port}`], term)).toBe(0);
      expect(term.text().out).toContain(`${ref} Always sha256:`);
      expect(term.text().out).toMatch(/pull failed at \S+: oci:\/\/\S+: 127\.0\.0\.1:\d+ unreachable: connect ECONNREFUSED/);
      const pulls = (await (await fetch(`http://127.0.0.1:${app.adminAddress?.port}/v1/pulls`)).json()) as { pulls: Array<{ error?: string; sha256?: string }> };
      expect(pulls.pulls[0]).toMatchObject({ sha256: sha256Hex(v1), error: expect.stringContaining("ECONNREFUSED") });

      // A reference never pulled cannot fall back: the whole rebuild is refused and v1 stays.
      await writeFile(join(dir, "wasmxds.yaml"), config(`oci://${registry.host}/${r}:v2`));
      const result = await app.reload();
      expect(result.ok).toBe(false);
      expect(app.events.list({ types: ["rejected"] }).at(-1)?.message).toMatch(new RegExp(`^filter "auth": oci://${registry.host}/${r}:v2: ${registry.host} unreachable`));
      expect(served()).toBe(sha256Hex(v1));

      // Restart while the registry is down: the pull index and the module store have it.
      await writeFile(join(dir, "wasmxds.yaml"), config(ref));
      await app.close(0);
      app = undefined;
      expect(JSON.parse(await readFile(join(dir, ".wasmxds", "oci-pulls.json"), "utf8")).records).toMatchObject({ [`${registry.host}/${r}:v1`]: { sha256: sha256Hex(v1) } });
      app = await startTestApp(dir);
      expect(served()).toBe(sha256Hex(v1));
    } finally {
      await registry.restart();
    }
  });

  it("each failure keeps the last good module and shows in /v1/pulls and wasmxds status: missing tag, not wasm, over the size cap, wrong sha256", async () => {
    const r = repo();
    await registry.push(r, wasmArtifact(v1), "good");
    await registry.push(r, wasmArtifact(Buffer.from("<html>not a module</html>")), "html");
    await registry.push(r, wasmArtifact(v2), "big");
    dir = await tempConfigFolder({ "wasmxds.yaml": config(`oci://${registry.host}/${r}:good`) });
    app = await startTestApp(dir);
    const version = app.publisher.published?.snapshot.version;
    const cases: Array<[string, string, string[], RegExp]> = [
      ["a missing tag", "gone", [], /HTTP 404 Not Found \(manifest gone not found/],
      ["a layer that is not wasm", "html", [], /the layer is not a wasm module \(it starts with 0x3c68746d/],
      ["a layer over the size cap", "big", [], new RegExp(`is ${v2.length} bytes, over the ${v2.length - 1}-byte limit`)],
      ["a wrong sha256", "big", [`sha256: ${sha256Hex(v1)}`], new RegExp(`sha256 mismatch: the filter expects ${sha256Hex(v1)}`)],
    ];
    for (const [what, tag, fields, error] of cases) {
      const ref = `oci://${registry.host}/${r}:${tag}`;
      const yaml = config(ref, fields);
      await writeFile(join(dir, "wasmxds.yaml"), what === "a layer over the size cap" ? yaml.replace("allowPrivateFetch: true", `allowPrivateFetch: true, maxModuleBytes: ${v2.length - 1}`) : yaml);
      const result = await app.reload();
      expect(result.ok, what).toBe(false);
      expect(app.publisher.published?.snapshot.version, what).toBe(version);
      expect(served(), what).toBe(sha256Hex(v1));
      expect(app.events.list({ types: ["rejected"] }).at(-1)?.message, what).toMatch(new RegExp(`^filter "auth": ${ref}: .*${error.source}`));
      const pulls = (await (await fetch(`http://127.0.0.1:${app.adminAddress?.port}/v1/pulls`)).json()) as { pulls: Array<{ reference: string; error?: string }> };
      expect(pulls.pulls.find((p) => p.reference === ref)?.error, what).toMatch(error);
      const term = memoryTerminal();
      await cli(["status", "--admin-address", `127.0.0.1:${app.adminAddress?.port}`], term);
      expect(term.text().out, what).toContain(`${ref} IfNotPresent never resolved`);
    }
  });

  it("a pullSecret is a config-folder file: missing, a fifo, or a symlink out of the folder is named; it is read only when a pull needs it", async () => {
    const r = repo();
    await registry.push(r, wasmArtifact(v1), "v1");
    const ref = `oci://${registry.host}/${r}:v1`;
    dir = await tempConfigFolder({ "wasmxds.yaml": config(ref, ["pullSecret: secrets/registry.json"]) });
    const name = `filter "auth": pullSecret secrets/registry.json`;
    await expect(startTestApp(dir)).rejects.toThrow(`${name}: no such file in the config folder`);
    await mkdir(join(dir, "secrets"));
    execFileSync("mkfifo", [join(dir, "secrets", "registry.json")]);
    await expect(startTestApp(dir)).rejects.toThrow(`${name}: expected a regular file, found a fifo (named pipe)`);
    await rm(join(dir, "secrets", "registry.json"));
    await symlink("/etc/hostname", join(dir, "secrets", "registry.json"));
    await expect(startTestApp(dir)).rejects.toThrow(new RegExp(`^${name}: resolves to /etc/hostname, outside the config folder$`));
    // An anonymous registry needs no credentials, but the secret is read for the pull: a good one is used.
    await rm(join(dir, "secrets", "registry.json"));
    await writeFile(join(dir, "secrets", "registry.json"), JSON.stringify({ auths: {} }));
    app = await startTestApp(dir);
    expect(served()).toBe(sha256Hex(v1));
    // Cached now: a secret gone bad does not matter until the next pull.
    await writeFile(join(dir, "secrets", "registry.json"), "not json");
    expect((await app.reload()).ok).toBe(true);
  });

  it("errors name the filter and the reference: a missing tag at start-up", async () => {
    const r = repo();
    dir = await tempConfigFolder({ "wasmxds.yaml": config(`oci://${registry.host}/${r}:nope`) });
    await expect(startTestApp(dir)).rejects.toThrow(new RegExp(`^filter "auth": oci://${registry.host}/${r}:nope: HTTP 404 Not Found \\(manifest nope not found`));
  });
});
