/**
 * Crash rollback for a filter whose module comes from a `url:` (with its
 * sha256): the known-good version's module and settings replace the
 * crashing one's on every node, although the config folder still names the
 * crashing version's URL and sha256 (the pin the fallback must not check
 * against the good module).
 */
import { createServer, type Server } from "node:http";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { SimFleet } from "../../src/sim";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { startTestApp } from "../helpers/app";
import { tempConfigFolder } from "../helpers/config-folder";
import { cleanup, runningGuard } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { fixture } from "../helpers/wasm-bytes";

function urlYaml(url: string, sha256: string, configuration: string): string {
  return `
server: { allowPrivateFetch: true }
filters:
  - name: guard
    kind: http
    url: ${url}
    sha256: ${sha256}
    insecure: true
    rootId: ""
    failurePolicy: FAIL_RELOAD
    reloadBackoff: { base: 10ms }
    configuration: ${configuration}
    health: { goodAfter: 30s, window: 30s }
listeners:
  - name: ingress
    address: 127.0.0.1:10000
    http: { filters: [guard], routes: [{ prefix: /, cluster: backend }] }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`;
}

describe("rollback of a url: module that crashes in production", () => {
  let dir: string | undefined;
  let app: RunningWasmxds | undefined;
  let fleet: SimFleet | undefined;
  let artifacts: Server | undefined;

  afterEach(async () => {
    await cleanup(fleet, app, dir);
    artifacts?.close();
    fleet = app = dir = artifacts = undefined;
  });

  it("serves the good url version again on every node", async () => {
    const modules: Record<string, Buffer> = { "/good.wasm": fixture("good_http"), "/bad.wasm": fixture("trap_nth_request") };
    artifacts = createServer((req, res) => {
      const body = modules[req.url ?? ""];
      res.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((r) => artifacts!.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(artifacts.address() as { port: number }).port}`;
    const good = sha256Hex(modules["/good.wasm"]!);
    const bad = sha256Hex(modules["/bad.wasm"]!);

    dir = await tempConfigFolder({}, "wasmxds-url-rollback-");
    await writeFile(join(dir, "wasmxds.yaml"), urlYaml(`${base}/good.wasm`, good, "{}"));
    app = await startTestApp(dir, { statsPullIntervalMs: 200 });
    fleet = new SimFleet({ nodes: 2, idPrefix: "u", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, traffic: { rps: 40 }, metricsService: { flushIntervalMs: 250 } });
    await fleet.start();
    await waitFor("fleet runs the good module", () => fleet!.nodes.every((n) => runningGuard(n) === good), 10_000);

    await writeFile(join(dir, "wasmxds.yaml"), urlYaml(`${base}/bad.wasm`, bad, '{"crashAfter":50}'));
    expect((await app.reload()).ok).toBe(true);
    await waitFor("rollback", () => app!.events.list({ types: ["rollback"] })[0], 20_000);
    expect(app.versions.quarantined("guard")[0]).toMatchObject({ sha256: bad });
    await waitFor("every node back on the good version", () => fleet!.nodes.every((n) => runningGuard(n) === good), 10_000);
    // The folder still names the bad version; a republish keeps serving the good one.
    expect((await app.reload()).ok).toBe(true);
    expect(fleet.nodes.every((n) => runningGuard(n) === good)).toBe(true);
  });
});
