/**
 * The pre-flight worker must also load when the sources run the way tests
 * spawn the command (test/helpers/wasmxds-src.mjs): plain node with tsx
 * registered, not vitest. (bin/wasmxds.js runs the build, whose worker is
 * plain JavaScript: test/package/command.test.ts.)
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

const SCRIPT = `
import { readFileSync } from "node:fs";
import { register } from "tsx/esm/api";
register();
const { preflight } = await import("./src/wasm/preflight/index.ts");
const good = await preflight(readFileSync("test/fixtures/modules/good_http.wasm"), { kind: "http", rootId: "good_http", smoke: true });
const slow = await preflight(readFileSync("test/fixtures/modules/slow_vm_start.wasm"), { kind: "http", rootId: "slow_vm_start", timeoutMs: 300 });
process.stdout.write(JSON.stringify({ good: good.ok, slow: slow.ok ? "ok" : slow.stage }));
`;

describe("preflight under tsx (how tests run the command)", () => {
  it("runs the worker and enforces the timeout outside vitest", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", SCRIPT], {
      cwd: root,
      timeout: 30_000,
    });
    expect(JSON.parse(stdout)).toEqual({ good: true, slow: "timeout" });
  });
});
