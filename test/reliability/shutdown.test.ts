/**
 * Issue 11, item 4: SIGTERM and SIGINT waited forever on a stream that
 * never reads ("shutting down", then nothing until the client went). Now
 * streams get a grace period (--shutdown-grace, default 5 s), then the gRPC
 * server is forced closed and the process exits 0; a signal during
 * start-up exits 0 as well.
 */
import { mkdtempSync, rmSync } from "node:fs";
import * as http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { encodeMessage } from "../../src/proto/registry";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { generateConfig } from "../../bench/fanout/config-gen";
import { type CliProcess, startCli } from "../helpers/cli-process";

const ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";

const dirs: string[] = [];
const procs: CliProcess[] = [];
const sessions: http2.ClientHttp2Session[] = [];
afterEach(async () => {
  for (const c of sessions.splice(0)) c.destroy();
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function bigConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), "wasmxds-shutdown-"));
  dirs.push(dir);
  // 400 listeners: an LDS response of a few hundred KB per stream.
  generateConfig(dir, 400, "inline");
  return dir;
}

function serve(dir: string, extra: string[] = []): CliProcess {
  const p = startCli(["serve", "--config", dir, "--xds-address", "127.0.0.1:0", "--modules-address", "127.0.0.1:0", "--admin-address", "off", "--state-dir", "off", ...extra]);
  procs.push(p);
  return p;
}

/**
 * `streams` ADS streams on one raw HTTP/2 connection that subscribe to every
 * listener and never read a byte: a stream window of 0 lets the server send
 * no DATA at all, so everything it writes stays buffered on its side.
 */
function neverReading(port: number, streams: number): void {
  const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 0 } });
  session.on("error", () => {});
  sessions.push(session);
  const frame = (msg: Record<string, unknown>) => {
    const bytes = encodeMessage("envoy.service.discovery.v3.DiscoveryRequest", msg);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(bytes.length, 1);
    return Buffer.concat([header, bytes]);
  };
  for (let i = 0; i < streams; i++) {
    const req = session.request({ ":method": "POST", ":path": ADS_PATH, "content-type": "application/grpc", te: "trailers" });
    req.on("error", () => {});
    req.write(frame({ node: { id: `stuck-${i}` }, type_url: TYPE_URLS.listener }));
    req.write(frame({ type_url: TYPE_URLS.extensionConfig, resource_names: ["add-header"] }));
  }
}

async function readyPort(p: CliProcess): Promise<number> {
  const ready = await p.waitFor((l) => l.msg === "wasmxds ready", 30_000);
  return Number(String(ready.xds).split(":").pop());
}

async function stopTimed(p: CliProcess, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const start = Date.now();
  p.child.kill(signal);
  const code = await p.exited;
  return { code, ms: Date.now() - start };
}

describe("shutdown with streams that never read", () => {
  it("SIGTERM closes them after --shutdown-grace and exits 0", async () => {
    const p = serve(bigConfig(), ["--shutdown-grace", "1s"]);
    const port = await readyPort(p);
    neverReading(port, 20);
    await p.waitFor((l) => l.msg === "node connected" && l.node === "stuck-19");
    await new Promise((r) => setTimeout(r, 500));
    const { code, ms } = await stopTimed(p, "SIGTERM");
    expect(code).toBe(0);
    // The streams held the server for the grace period, no longer.
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(4000);
    expect(p.outputText()).not.toMatch(/forcing exit/);
  }, 60_000);

  it("SIGINT with --shutdown-grace 0 closes them at once and exits 0", async () => {
    const p = serve(bigConfig(), ["--shutdown-grace", "0"]);
    const port = await readyPort(p);
    neverReading(port, 20);
    await p.waitFor((l) => l.msg === "node connected" && l.node === "stuck-19");
    const { code, ms } = await stopTimed(p, "SIGINT");
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2500);
  }, 60_000);

  it("a signal during start-up exits 0 and leaves nothing running", async () => {
    const p = serve(bigConfig());
    // The first line is written while the control plane is still starting.
    await p.waitFor(() => true, 30_000);
    const { code } = await stopTimed(p, "SIGTERM");
    expect(code).toBe(0);
    expect(p.lines.map((l) => l.msg)).toContain("signalled during start-up; stopping");
  }, 60_000);

  it("refuses a --shutdown-grace that is not a duration", async () => {
    const p = serve(bigConfig(), ["--shutdown-grace", "soon"]);
    expect(await p.exited).toBe(2);
    expect(p.outputText()).toMatch(/--shutdown-grace: expected a duration/);
  }, 60_000);
});
