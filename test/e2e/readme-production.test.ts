/**
 * The README's "Running in production" section, run as written (issue 15:
 * "the secured setup runs with two commands"). The serve command is taken
 * from the README itself, with /etc/wasmxds/ pointing at a folder of
 * test-time certificates and the bundled example config, and the xDS address
 * moved to a free loopback port; the Envoy command is replaced by the
 * simulator command the same section gives for running without Envoy, for
 * one node whose SPIFFE ID its certificate carries. The node gets LIVE over
 * mTLS with node identity san-uri and module bytes over https, and the
 * admin API wants the token for a mutating call.
 */
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { PACKAGE_ROOT } from "../../src/package-root";
import { makeCa, makeLeaf, makeServerCert } from "../helpers/certificates";
import { type CliProcess, startCli } from "../helpers/cli-process";
import { removeFolder } from "../helpers/config-folder";
import { memoryTerminal } from "../helpers/terminal";

const NODE_ID_PREFIX = "spiffe://example.org/ns/edge/sa/envoy-";

/** The README's production section: its serve command (continuation lines joined) and its simulator command. */
async function readmeCommands(): Promise<{ serve: string[]; sim: string[] }> {
  const readme = await readFile(join(PACKAGE_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Running in production"), readme.indexOf("\n## ", readme.indexOf("## Running in production") + 3));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const serve = block.replace(/\\\n/g, " ").split("\n").find((l) => l.startsWith("wasmxds serve"));
  const sim = /`(wasmxds sim [^`]+)`/.exec(section.replace(/\n/g, " "))?.[1];
  if (!serve || !sim) throw new Error("README: no serve or sim command in 'Running in production'");
  // Without "wasmxds <command>".
  const words = (line: string) => line.trim().split(/\s+/).slice(2);
  return { serve: words(serve), sim: words(sim) };
}

describe("README: Running in production", () => {
  let etc: string;
  let serve: CliProcess | undefined;
  let xdsPort = 0;
  let adminAddress = "";
  let token = "";

  beforeAll(async () => {
    etc = await mkdtemp(join(tmpdir(), "wasmxds-etc-"));
    await cp(join(PACKAGE_ROOT, "config"), join(etc, "config"), { recursive: true, filter: (src) => !src.includes(".wasmxds") });
    const ca = await makeCa();
    const server = await makeServerCert(ca, { dns: ["wasmxds.example.internal", "localhost"] });
    const node = await makeLeaf(ca, { cn: "envoy-0", uris: [`${NODE_ID_PREFIX}0`] });
    token = randomBytes(24).toString("hex");
    await Promise.all([
      writeFile(join(etc, "ca.pem"), ca.cert),
      writeFile(join(etc, "server.pem"), server.cert),
      writeFile(join(etc, "server-key.pem"), server.key),
      writeFile(join(etc, "node.pem"), node.cert),
      writeFile(join(etc, "node-key.pem"), node.key),
      writeFile(join(etc, "admin-token"), `${token}\n`, { mode: 0o600 }),
    ]);
  });
  afterAll(async () => {
    if (serve) expect(await serve.stop()).toBe(0);
    await removeFolder(etc);
  });

  it("serves a node over mTLS with node identity and https modules, with the README's commands", async () => {
    const { serve: serveArgs, sim: simArgs } = await readmeCommands();
    expect(serveArgs).toEqual(expect.arrayContaining(["--client-ca", "--node-identity", "san-uri", "--modules-tls", "--admin-token-file"]));
    const here = (arg: string) => arg.replace("/etc/wasmxds/", `${etc}/`).replace("0.0.0.0:18000", "127.0.0.1:0");
    // Free ports for the module server and admin API (the README keeps their defaults).
    serve = startCli(["serve", ...serveArgs.map(here), "--modules-address", "127.0.0.1:0", "--admin-address", "127.0.0.1:0"]);
    const ready = await serve.waitFor((l) => l.msg === "wasmxds ready", 30_000);
    expect(ready).toMatchObject({ xdsTls: "mtls", nodeIdentity: "san-uri" });
    xdsPort = Number(String(ready.xds).split(":").pop());
    adminAddress = String(ready.admin);

    const files: Record<string, string> = { "ca.pem": join(etc, "ca.pem"), "node.pem": join(etc, "node.pem"), "node-key.pem": join(etc, "node-key.pem") };
    const sim = simArgs.map((a) => files[a] ?? a.replace("HOST:18000", `127.0.0.1:${xdsPort}`));
    const term = memoryTerminal();
    const code = await main(["sim", ...sim, "--nodes", "1", "--id-prefix", NODE_ID_PREFIX, "--cluster", "edge", "--duration", "3s", "--interval", "1s", "--log-level", "silent"], term);
    const { out, err } = term.text();
    expect(err).toBe("");
    expect(code).toBe(0);
    const final = out.split("\n").find((l) => l.startsWith("final: "));
    expect(final).toMatch(/^final: 1 nodes: 1 connected, 1 live /);
    // Remote code over ECDS: the first push is NACKed as a code-cache miss while the module is fetched over https,
    // then the re-push is ACKed (docs/HEALTH.md, "Remote code over ECDS"); every type ends ACKed by the node.
    expect(final).toMatch(/ECDS [0-9a-f]{8}…×1 \|/);
  });

  it("wants the admin token for a mutating call", async () => {
    const url = `http://${adminAddress}/v1/filters/add-header/quarantine/clear`;
    const headers = { "content-type": "application/json" };
    expect((await fetch(url, { method: "POST", headers, body: "{}" })).status).toBe(401);
    const authorized = await fetch(url, { method: "POST", headers: { ...headers, authorization: `Bearer ${token}` }, body: "{}" });
    expect(authorized.status).not.toBe(401);
  });
});
