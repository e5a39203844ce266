/**
 * Issue 21 in the simulator, against the whole control plane: a module
 * sees its environment as Envoy gives it (env.values, host keys from the
 * node's host environment), a hostPath module is read from the folder that
 * stands for the Envoy host's disk, and a missing host file is NACKed with
 * Envoy's message. Then the end-to-end case: hostPath versions crash,
 * are attributed by the short sha in the plugin name, and are rolled back
 * to the good hostPath version, code source and environment included.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { main } from "../../src/cli/main";
import { SimFleet } from "../../src/sim";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { startTestApp } from "../helpers/app";
import { tempConfigFolder } from "../helpers/config-folder";
import { memoryTerminal } from "../helpers/terminal";
import { cleanup } from "../helpers/fleet";
import { waitFor } from "../helpers/wait";
import { fixture } from "../helpers/wasm-bytes";
import { envModule, loggedEnv } from "./env-module";

const LISTENER = `
listeners:
  - name: ingress
    address: 127.0.0.1:10000
    http: { filters: [guard], routes: [{ prefix: /, cluster: backend }] }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`;

function guard(fields: string): string {
  const lines = fields.trim().split("\n").map((l) => `    ${l}`);
  return `filters:\n  - name: guard\n    kind: http\n${lines.join("\n")}\n${LISTENER}`;
}

describe("the simulator honours env and hostPath as Envoy does", () => {
  let dir: string | undefined;
  let hostRoot: string | undefined;
  let app: RunningWasmxds | undefined;
  let fleet: SimFleet | undefined;

  afterEach(async () => {
    await cleanup(fleet, app, dir);
    if (hostRoot) await rm(hostRoot, { recursive: true, force: true });
    fleet = app = dir = hostRoot = undefined;
  });

  async function hostDisk(files: Record<string, Uint8Array>): Promise<string> {
    hostRoot = await mkdtemp(join(tmpdir(), "wasmxds-host-"));
    for (const [path, bytes] of Object.entries(files)) {
      await mkdir(join(hostRoot, path, ".."), { recursive: true });
      await writeFile(join(hostRoot, path), bytes);
    }
    return hostRoot;
  }

  it("the module reads env.values and host keys from the node's host environment", async () => {
    const bytes = await envModule();
    dir = await tempConfigFolder({
      "m.wasm": bytes,
      "wasmxds.yaml": guard(`
module: m.wasm
env: { hostKeys: [POD_NAME, NOT_ON_HOST], values: { REGION: eu-west-1 } }
preflightEnv: { POD_NAME: check }`),
    });
    app = await startTestApp(dir, { stateDir: null });
    fleet = new SimFleet({ nodes: 2, idPrefix: "e", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, perNode: (i) => ({ host: { env: { POD_NAME: `pod-${i}` } } }) });
    await fleet.start();
    await waitFor("fleet LIVE", () => fleet!.summary().live === 2, 10_000);
    const seen = fleet.nodes.map((n) => loggedEnv(n.plugins()[0]?.workerVm?.logs ?? []));
    expect(seen).toEqual([
      { REGION: "eu-west-1", POD_NAME: "pod-0" },
      { REGION: "eu-west-1", POD_NAME: "pod-1" },
    ]);
  });

  it("reads hostPath under the host root; a missing host file is NACKed with Envoy's message", async () => {
    const good = fixture("good_http");
    const root = await hostDisk({ "var/lib/wasm/guard.wasm": good });
    dir = await tempConfigFolder({ "wasmxds.yaml": guard(`hostPath: /var/lib/wasm/guard.wasm\nsha256: ${sha256Hex(good)}`) });
    app = await startTestApp(dir, { stateDir: null });
    fleet = new SimFleet({ nodes: 1, idPrefix: "h", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, host: { root } });
    await fleet.start();
    await waitFor("fleet LIVE", () => fleet!.summary().live === 1, 10_000);
    const node = fleet.nodes[0]!;
    expect(node.plugins()[0]?.runningCodeSha256).toBe(sha256Hex(good));

    // A version whose file was never deployed to the hosts.
    const other = fixture("trap_first_request");
    await writeFile(join(dir, "wasmxds.yaml"), guard(`hostPath: /var/lib/wasm/missing.wasm\nsha256: ${sha256Hex(other)}`));
    expect((await app.reload()).ok).toBe(true);
    await waitFor("NACK", () => node.nacks().find((n) => n.message.includes("missing.wasm")), 10_000);
    expect(node.nacks().at(-1)?.message).toContain("Invalid path: /var/lib/wasm/missing.wasm");
    // The node keeps running the good version, as Envoy keeps its last accepted config.
    expect(node.plugins()[0]?.runningCodeSha256).toBe(sha256Hex(good));
  });

  it("a crashing hostPath version is attributed by its short sha and rolled back, code source, runtime and env included", async () => {
    const good = fixture("good_http");
    const bad = fixture("trap_nth_request");
    const [goodSha, badSha] = [sha256Hex(good), sha256Hex(bad)];
    const root = await hostDisk({ "var/lib/wasm/guard-v1.wasm": good, "var/lib/wasm/guard-v2.wasm": bad });
    const common = "failurePolicy: FAIL_RELOAD\nreloadBackoff: { base: 10ms }\nhealth: { goodAfter: 30s, window: 30s }";
    const v1 = guard(`hostPath: /var/lib/wasm/guard-v1.wasm\nmodule: v1.wasm\nsha256: ${goodSha}\nenv: { values: { RELEASE: v1 } }\n${common}`);
    const v2 = guard(
      `hostPath: /var/lib/wasm/guard-v2.wasm\nmodule: v2.wasm\nsha256: ${badSha}\nconfiguration: { crashAfter: 50 }\nruntime: wasmtime\nenv: { values: { RELEASE: v2 } }\n${common}`,
    );
    dir = await tempConfigFolder({ "v1.wasm": good, "v2.wasm": bad, "wasmxds.yaml": v1 });
    app = await startTestApp(dir, {});
    fleet = new SimFleet({
      nodes: 3,
      idPrefix: "c",
      xdsAddress: `127.0.0.1:${app.xdsAddress.port}`,
      traffic: { rps: 40 },
      metricsService: { flushIntervalMs: 250 },
      host: { root },
    });
    await fleet.start();
    await waitFor("fleet LIVE", () => fleet!.summary().live === 3, 10_000);

    await writeFile(join(dir, "wasmxds.yaml"), v2);
    const published = Date.now();
    expect((await app.reload()).ok).toBe(true);
    await waitFor("every node on v2", () => fleet!.nodes.every((n) => n.plugins()[0]?.name === `guard@${badSha.slice(0, 8)}`), 10_000);
    expect(fleet.nodes[0]!.plugins()[0]?.spec.runtime).toBe("envoy.wasm.runtime.wasmtime");
    await waitFor("rollback", () => app!.events.list({ types: ["rollback"] })[0], 20_000);
    const event = app.events.list({ types: ["rollback"] })[0]!;
    // As fast as for modules wasmxds serves itself (test/health/rollback-crash.test.ts: under 15 s).
    expect(Date.now() - published).toBeLessThan(15_000);
    expect(event.message).toMatch(new RegExp(`^guard@${badSha.slice(0, 8)} rolled back to guard@${goodSha.slice(0, 8)}: \\d+ crash signal`));
    expect(app.versions.quarantined("guard")[0]).toMatchObject({ sha256: badSha });
    // Every node reads v1 from its host disk again (guard-v2.wasm would give the bad sha)...
    await waitFor("every node back on v1", () => fleet!.nodes.every((n) => n.plugins()[0]?.runningCodeSha256 === goodSha), 10_000);
    // ...because what is served is v1 as it was: its host file and its environment.
    const served = app.publisher.published!.served.get("guard")!;
    expect(served.filter.hostPath).toBe("/var/lib/wasm/guard-v1.wasm");
    expect(served.filter.env).toEqual({ hostKeys: [], values: { RELEASE: "v1" } });
    expect(served.filter.runtime).toBeUndefined();
    for (const n of fleet.nodes) {
      expect(n.plugins()[0]?.spec.environment).toEqual({ RELEASE: "v1" });
      expect(n.plugins()[0]?.spec.runtime).toBe("envoy.wasm.runtime.v8");
    }
  });

  it("rolls back to a hostPath version that has no module copy in the config folder (Envoy has the file; wasmxds needs no bytes)", async () => {
    const good = fixture("good_http");
    const bad = fixture("trap_nth_request");
    const [goodSha, badSha] = [sha256Hex(good), sha256Hex(bad)];
    const root = await hostDisk({ "var/lib/wasm/guard-v1.wasm": good, "var/lib/wasm/guard-v2.wasm": bad });
    const common = "failurePolicy: FAIL_RELOAD\nreloadBackoff: { base: 10ms }\nhealth: { goodAfter: 30s, window: 30s }";
    const v1 = guard(`hostPath: /var/lib/wasm/guard-v1.wasm\nsha256: ${goodSha}\n${common}`);
    const v2 = guard(`hostPath: /var/lib/wasm/guard-v2.wasm\nsha256: ${badSha}\nconfiguration: { crashAfter: 50 }\n${common}`);
    dir = await tempConfigFolder({ "wasmxds.yaml": v1 });
    app = await startTestApp(dir, {});
    fleet = new SimFleet({ nodes: 2, idPrefix: "h", xdsAddress: `127.0.0.1:${app.xdsAddress.port}`, traffic: { rps: 40 }, metricsService: { flushIntervalMs: 250 }, host: { root } });
    await fleet.start();
    await waitFor("fleet on v1", () => fleet!.nodes.every((n) => n.plugins()[0]?.runningCodeSha256 === goodSha), 10_000);
    await writeFile(join(dir, "wasmxds.yaml"), v2);
    expect((await app.reload()).ok).toBe(true);
    await waitFor("rollback", () => app!.events.list({ types: ["rollback"] })[0], 20_000);
    expect(app.events.list({ types: ["rollback"] })[0]!.message).toMatch(new RegExp(`^guard@${badSha.slice(0, 8)} rolled back to guard@${goodSha.slice(0, 8)}`));
    await waitFor("every node back on v1", () => fleet!.nodes.every((n) => n.plugins()[0]?.runningCodeSha256 === goodSha), 10_000);
    expect(app.publisher.published!.served.get("guard")!.filter.hostPath).toBe("/var/lib/wasm/guard-v1.wasm");
  });
});

describe("wasmxds sim --host-root", () => {
  it("refuses a folder that does not exist, naming the flag", async () => {
    const term = memoryTerminal();
    const missing = join(tmpdir(), "wasmxds-no-such-host-root");
    const code = await main(["sim", "--host-root", missing, "--duration", "1s"], term);
    expect(code).toBe(2);
    expect(term.text().err).toContain(`--host-root: ${missing} is not a directory`);
  });
});
