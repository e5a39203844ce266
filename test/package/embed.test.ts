/**
 * docs/EMBEDDING.md's example (examples/embed/main.ts) as a user builds and
 * runs it: type-checked and compiled by tsc against the package's declaration
 * files with Node's own resolution (nodenext), then run by plain node from a
 * folder that has the package in node_modules, as an installed dependency.
 * An Envoy-like ADS client gets the example's listeners; SIGTERM stops it.
 *
 * Regression test for the declaration files: tsc emits relative imports
 * without extensions, which nodenext refuses (TS2834) until the build adds
 * them.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient, resourcesOf } from "../helpers/ads-client";
import { ensureBuilt, ROOT } from "./ensure-built";

const run = promisify(execFile);
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

describe("the embedding example, compiled against the built package", () => {
  const app = mkdtempSync(join(tmpdir(), "wasmxds-embed-"));

  beforeAll(async () => {
    ensureBuilt();
    // The user's project: ES modules, wasmxds installed (a link to this package).
    writeFileSync(join(app, "package.json"), JSON.stringify({ type: "module", private: true }));
    mkdirSync(join(app, "node_modules"));
    symlinkSync(ROOT, join(app, "node_modules/wasmxds"), "dir");
  }, 180_000);

  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it("type-checks with nodenext resolution and no skipLibCheck, and compiles", async () => {
    const result = await run(process.execPath, [TSC, "-p", join(ROOT, "examples/embed/tsconfig.json"), "--outDir", join(app, "out")], {
      cwd: ROOT,
    }).then(
      () => "",
      (err: { stdout: string }) => err.stdout,
    );
    expect(result).toBe("");
  });

  it("runs with plain node, serves Envoy its listeners, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [join(app, "out/main.js"), join(ROOT, "config")], {
      cwd: app,
      env: { ...process.env, EMBED_XDS_ADDRESS: "127.0.0.1:0", EMBED_MODULES_ADDRESS: "127.0.0.1:0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    let client: AdsClient | undefined;
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes('"ready":true')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the example did not get ready:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const ready = JSON.parse(out.split("\n")[0]!) as { xds: string };
      client = new AdsClient(Number(ready.xds.split(":").pop()), { id: "envoy-1", cluster: "edge" });
      client.request({ typeUrl: TYPE_URLS.listener });
      const resp = await client.next(TYPE_URLS.listener);
      expect(resourcesOf(resp).map((r) => r.name).sort()).toEqual(["ingress", "tcp-in"]);
      client.cancel();
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(out).toContain('"stopped":true');
    } finally {
      client?.cancel();
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
