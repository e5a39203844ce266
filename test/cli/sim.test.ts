/** `wasmxds sim` in-process: options, the summary lines and the final report, and usage errors. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { main } from "../../src/cli/main";
import { startHarness, type Harness } from "../helpers/xds-harness";
import { memoryTerminal } from "../helpers/terminal";
import { waitFor } from "../helpers/wait";
import { ecds, httpListener, moduleBytes, type Res, routeConfig, staticCluster, TYPE_URLS, wasmAny } from "../helpers/xds-resources";

const T = TYPE_URLS;
const input = (list: Res[]) => list.map((r) => ({ name: r.name, message: r.message }));


describe("wasmxds sim", () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
    harness.cache.setDefaultSnapshot(
      Snapshot.create({
        [T.cluster]: input([staticCluster("backend", 8080)]),
        [T.extensionConfig]: input([ecds("f1", wasmAny("http", { plugin: "f1@1", rootId: "good_http", code: { inline: moduleBytes("good_http") } }))]),
        [T.listener]: input([httpListener("ingress", 10000, [{ ecds: "f1" }])]),
        [T.route]: input([routeConfig("ingress", "backend")]),
      }),
    );
  });

  afterAll(async () => {
    await harness.close();
  });

  it("spreads nodes over several --xds-address values (one per replica), repeated or comma-separated", async () => {
    const second = await startHarness();
    try {
      second.cache.setDefaultSnapshot(harness.cache.getSnapshot("")!);
      const term = memoryTerminal();
      const [a, b] = [`127.0.0.1:${harness.port}`, `127.0.0.1:${second.port}`];
      const code = await main(["sim", "--nodes", "3", "--xds-address", `${a},${b}`, "--id-prefix", "spread-", "--duration", "600ms", "--interval", "200ms", "--log-level", "silent"], term);
      expect(code).toBe(0);
      const connected = (h: Harness) => h.logger.records.filter((r) => r.msg === "node connected" && String(r.fields.node).startsWith("spread-")).map((r) => r.fields.node);
      expect(connected(harness).sort()).toEqual(["spread-0", "spread-2"]);
      expect(connected(second)).toEqual(["spread-1"]);
      const repeated = memoryTerminal();
      expect(await main(["sim", "--nodes", "2", "--xds-address", a, "--xds-address", b, "--id-prefix", "rep-", "--duration", "400ms", "--interval", "200ms", "--log-level", "silent"], repeated)).toBe(0);
      expect(second.logger.records.filter((r) => r.msg === "node connected" && r.fields.node === "rep-1")).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it("runs N nodes for --duration, printing a summary line per interval and a final one", async () => {
    const term = memoryTerminal();
    const args = ["sim", "--nodes", "3", "--xds-address", `127.0.0.1:${harness.port}`, "--rps", "20", "--duration", "800ms", "--interval", "200ms"];
    const code = await main([...args, "--metadata", "ring=canary", "--zone", "z1", "--cluster", "edge", "--id-prefix", "cli-", "--log-level", "silent"], term);
    const { out, err } = term.text();
    expect(err).toBe("");
    expect(code).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.at(-2)).toMatch(/^3 nodes: 3 connected, 3 live \| CDS [0-9a-f]{8}…×3 \| LDS .* \| NACKs 0 \| requests \d+ ok, 0 failed$/);
    const final = lines.at(-1) as string;
    expect(final).toMatch(/^final: 3 nodes: 3 connected, 3 live .* requests [1-9]\d* ok, 0 failed$/);
    // Stopping closes every stream.
    await waitFor("streams closed", () => harness.xds.streamStatuses().length === 0);
    const nodes = harness.logger.records.filter((r) => r.msg === "node connected" && String(r.fields.node).startsWith("cli-")).map((r) => r.fields.node);
    expect(nodes.sort()).toEqual(["cli-0", "cli-1", "cli-2"]);
  });

  it("--xds-api delta runs the nodes over DeltaAggregatedResources", async () => {
    const term = memoryTerminal();
    const args = ["sim", "--nodes", "2", "--xds-address", `127.0.0.1:${harness.port}`, "--xds-api", "delta", "--duration", "600ms", "--interval", "200ms"];
    const protocols = new Set<string>();
    const off = harness.xds.events.on((e) => {
      if (e.kind === "connect") for (const s of harness.xds.streamStatuses()) if (s.streamId === e.streamId) protocols.add(s.protocol);
    });
    const code = await main([...args, "--id-prefix", "delta-", "--log-level", "silent"], term);
    off();
    expect(term.text().err).toBe("");
    expect(code).toBe(0);
    expect(term.text().out.trim().split("\n").at(-1)).toMatch(/^final: 2 nodes: 2 connected, 2 live /);
    expect([...protocols]).toEqual(["delta"]);
  });

  it("rejects bad options with a usage error (exit 2)", async () => {
    for (const args of [["--nodes", "0"], ["--metadata", "novalue"], ["--rps", "fast"], ["--duration", "soon"], ["--bogus"], ["--xds-api", "rest"]]) {
      const term = memoryTerminal();
      const code = await main(["sim", ...args], term);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(term.text().err).toContain("error [USAGE]");
    }
    const term = memoryTerminal();
    expect(await main(["sim", "--xds-address", "nope"], term)).toBe(1);
    expect(term.text().err).toContain('error [ADDRESS_INVALID]: --xds-address: expected HOST:PORT, got "nope"');
  });

  it("prints its usage with --help", async () => {
    const term = memoryTerminal();
    expect(await main(["sim", "--help"], term)).toBe(0);
    expect(term.text().out).toContain("--admin-base-port P");
  });
});
