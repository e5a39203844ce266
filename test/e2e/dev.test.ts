/** `wasmxds dev` as a developer runs it: one line per event on stdout. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, startCli } from "../helpers/cli-process";
import { EXAMPLE_CONFIG, fixture, variant } from "../helpers/wasm-bytes";

describe("wasmxds dev", () => {
  let dir: string;
  let cli: CliProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "wasmxds-dev-"));
    cpSync(EXAMPLE_CONFIG, dir, { recursive: true });
    cli = startCli(["dev", "--config", dir, "--xds-address", "127.0.0.1:0", "--modules-address", "127.0.0.1:0", "--admin-address", "off"], {
      NO_COLOR: "1",
    });
    await cli.waitForOutput(/watching for changes/, 20_000);
  });

  afterAll(async () => {
    await cli?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints module changed, pre-flight passed and pushed for a good module", async () => {
    const next = variant(readFileSync(join(dir, "modules/add_header.wasm")), "dev-e2e");
    writeFileSync(join(dir, "modules/add_header.wasm"), next);
    await expect.poll(() => cli.outputText(), { timeout: 10_000 }).toMatch(/↑ pushed version [0-9a-f]{16} \(ECDS\)/);
    const out = cli.outputText();
    expect(out).toMatch(/● add-header module changed [0-9a-f]{8} → [0-9a-f]{8}/);
    expect(out).toMatch(/✓ add-header [0-9a-f]{8} pre-flight passed \([\d.]+ ms, smoke request ok\)/);
  });

  it("prints why a broken module was rejected, with the module's own log lines", async () => {
    writeFileSync(join(dir, "modules/add_header.wasm"), fixture("abort_vm_start"));
    await expect.poll(() => cli.outputText(), { timeout: 10_000 }).toMatch(/module rejected; still serving/);
    expect(cli.outputText()).toMatch(/✗ add-header [0-9a-f]{8} pre-flight failed at start/);
    expect(cli.outputText()).toMatch(/│ \[critical\]/);
  });
});
