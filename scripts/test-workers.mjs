#!/usr/bin/env node
// The suites that run the whole control plane (startTestApp) again with the
// xDS streams in two worker processes (WASMXDS_TEST_WORKERS=2;
// docs/WORKERS.md): end to end, health and rollbacks, rollouts, the gRPC
// port (TLS, node identity, connection limits) and shutdown; and the
// protocol tests of the xDS layer (startHarness: the stream rules). `npm test` runs
// it after the in-process suite; every other test file that starts the
// control plane passes in this configuration too:
//   WASMXDS_TEST_WORKERS=2 npx vitest run $(grep -rl startTestApp test --include=*.test.ts)
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Folders, and what a test file there must start to run again with workers. */
const SUITES = [
  ...["test/e2e", "test/health", "test/rollout", "test/net", "test/reliability"].map((dir) => [dir, /startTestApp\(/]),
  // The protocol tests (test/xds/workers/ sets its own workers).
  ["test/xds", /startHarness\(/],
];
const files = SUITES.flatMap(([dir, starts]) =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".test.ts") && !f.startsWith("workers/"))
    .map((f) => join(dir, f))
    .filter((f) => starts.test(readFileSync(f, "utf8"))),
);
const r = spawnSync("npx", ["vitest", "run", ...files, ...process.argv.slice(2)], { stdio: "inherit", env: { ...process.env, WASMXDS_TEST_WORKERS: "2" } });
process.exit(r.status ?? 1);
