/**
 * `wasmxds serve --watch --oci-poll-interval`: the command itself picks up a
 * tag moved in a real registry, on real time, with nobody touching the
 * config folder.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { startCli } from "../helpers/cli-process";
import { removeFolder, tempConfigFolder } from "../helpers/config-folder";
import { SKIP_REASON, type TestRegistry, registryAvailable, startRegistry, wasmArtifact } from "../helpers/oci-registry";
import { memoryTerminal } from "../helpers/terminal";
import { fixture, variant } from "../helpers/wasm-bytes";

const v1 = fixture("good_http");
const v2 = variant(v1, "cli-v2");

it("--oci-poll-interval takes a duration of at least 1s", async () => {
  for (const [value, message] of [
    ["soon", "--oci-poll-interval: "],
    ["500ms", '--oci-poll-interval: expected at least 1s, got "500ms"'],
  ] as const) {
    const term = memoryTerminal();
    expect(await main(["serve", "--oci-poll-interval", value], term)).toBe(2);
    expect(term.text().err).toContain(message);
  }
});

if (!registryAvailable) console.warn(`skipping OCI registry tests: ${SKIP_REASON}`);

describe.skipIf(!registryAvailable)("serve --watch with an Always tag", () => {
  let registry: TestRegistry;
  let dir: string | undefined;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir) await removeFolder(dir);
  });

  it("publishes the module a moved tag names within one interval", async () => {
    await registry.push("cli/auth", wasmArtifact(v1), "stable");
    dir = await tempConfigFolder({
      "wasmxds.yaml": `server: { allowPrivateFetch: true }
filters:
  - name: auth
    kind: http
    url: oci://${registry.host}/cli/auth:stable
    pullPolicy: Always
    insecure: true
listeners:
  - name: ingress
    address: 127.0.0.1:10000
    http: { filters: [auth], routes: [{ prefix: /, cluster: backend }] }
clusters:
  - name: backend
    endpoints: [127.0.0.1:8080]
`,
    });
    const zero = "127.0.0.1:0";
    const cli = startCli(["serve", "--watch", "--oci-poll-interval", "1s", "-c", dir, "--xds-address", zero, "--modules-address", zero, "--admin-address", "off"]);
    try {
      await cli.waitFor((l) => l.msg === "wasmxds ready", 30_000);
      await registry.push("cli/auth", wasmArtifact(v2), "stable");
      const pulled = await cli.waitFor((l) => l.msg === "OCI module pulled" && l.sha256 === sha256Hex(v2), 15_000);
      expect(pulled).toMatchObject({ reference: `oci://${registry.host}/cli/auth:stable` });
      await cli.waitFor((l) => l.msg === "published configuration" && cli.lines.indexOf(l) > cli.lines.indexOf(pulled), 15_000);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });
});
