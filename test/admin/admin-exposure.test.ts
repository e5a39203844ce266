/**
 * The admin API refuses to start beyond loopback without a token unless
 * `--admin-insecure` is given, and a token file is read at start (trimmed;
 * an empty one is an error naming the file). In-process starts and real
 * `wasmxds serve` runs.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAdminTokenFile } from "../../src/admin/admin-token";
import { WasmxdsError } from "../../src/errors";
import { runCli, startCli } from "../helpers/cli-process";
import { makeFolder, removeFolder, rolloutYaml } from "../helpers/config-folder";
import { startTestApp } from "../helpers/app";

const YAML = rolloutYaml({ steps: "        - { percent: 100 }" });

describe("admin API exposure", () => {
  let dir: string;

  beforeAll(async () => {
    ({ dir } = await makeFolder(YAML));
  });
  afterAll(async () => {
    await removeFolder(dir);
  });

  it("refuses a non-loopback admin address without a token, naming the flags", async () => {
    const started = startTestApp(dir, { adminAddress: { host: "0.0.0.0", port: 0 } });
    await expect(started).rejects.toThrow(WasmxdsError);
    await expect(started).rejects.toThrow(/--admin-address 0\.0\.0\.0:0 is not a loopback address and no admin token is set.*--admin-token-file.*--admin-insecure/);
  });

  it("starts on a non-loopback address with --admin-insecure, or with a token", async () => {
    for (const adminAccess of [{ insecure: true }, { token: "t0ken" }]) {
      const app = await startTestApp(dir, { adminAddress: { host: "0.0.0.0", port: 0 }, adminAccess });
      try {
        const res = await fetch(`http://127.0.0.1:${app.adminAddress!.port}/healthz`);
        expect(res.status).toBe(200);
      } finally {
        await app.close();
      }
    }
  });

  it("`wasmxds serve` exits with a usage error before listening, and runs with --admin-insecure", async () => {
    const base = ["serve", "-c", dir, "--state-dir", "off", "--xds-address", "127.0.0.1:0", "--modules-address", "127.0.0.1:0"];
    const refused = runCli([...base, "--admin-address", "0.0.0.0:0"], { WASMXDS_ADMIN_TOKEN: "" });
    await expect(refused).rejects.toMatchObject({ code: 2 });
    await expect(refused).rejects.toThrow(/\[USAGE\].*not a loopback address.*--admin-insecure/s);
    const cli = startCli([...base, "--admin-address", "0.0.0.0:0", "--admin-insecure"], { WASMXDS_ADMIN_TOKEN: "" });
    try {
      await cli.waitFor((l) => l.msg === "wasmxds ready");
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  it("`--admin-auth reads` without a token, or an unknown scope, is a usage error", async () => {
    const reads = runCli(["serve", "-c", dir, "--admin-auth", "reads"], { WASMXDS_ADMIN_TOKEN: "" });
    await expect(reads).rejects.toThrow(/--admin-auth reads needs a token: set --admin-token-file FILE or WASMXDS_ADMIN_TOKEN/);
    const bogus = runCli(["serve", "-c", dir, "--admin-auth", "all"], { WASMXDS_ADMIN_TOKEN: "" });
    await expect(bogus).rejects.toThrow(/--admin-auth: expected writes or reads, got "all"/);
  });

  it("reads the token file trimmed; an empty file is an error naming it", async () => {
    const good = join(dir, "token");
    const empty = join(dir, "empty-token");
    await writeFile(good, "\n  abc123 \n");
    await writeFile(empty, " \n");
    expect(readAdminTokenFile(good)).toBe("abc123");
    expect(() => readAdminTokenFile(empty)).toThrow(`--admin-token-file ${empty}: the file is empty; expected the admin token`);
    const refused = runCli(["serve", "-c", dir, "--admin-token-file", empty], { WASMXDS_ADMIN_TOKEN: "" });
    await expect(refused).rejects.toThrow(new RegExp(`${empty.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: the file is empty`));
  });
});
