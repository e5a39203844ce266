/**
 * `wasmxds sim --ca --tls-cert --tls-key` (issue 15): the CLI reads the PEM
 * files and its nodes reach a control plane requiring client certificates
 * (--client-ca, --node-identity cn) and get live; a certificate without its
 * key is a usage error, an unreadable file is named with its flag.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import type { RunningWasmxds } from "../../src/main";
import { startTestApp } from "../helpers/app";
import { makeCa, makeLeaf, makeServerCert, writeTlsFiles } from "../helpers/certificates";
import { guardFolder, removeFolder } from "../helpers/config-folder";
import { memoryTerminal } from "../helpers/terminal";

describe("wasmxds sim over mTLS", () => {
  let dir: string;
  let tmp: string;
  let app: RunningWasmxds;
  const client = { cert: "", key: "", ca: "" };

  beforeAll(async () => {
    dir = await guardFolder({ module: "good_http" });
    tmp = await mkdtemp(join(tmpdir(), "wasmxds-sim-cli-tls-"));
    const ca = await makeCa();
    const files = await writeTlsFiles(tmp, await makeServerCert(ca), ca);
    app = await startTestApp(dir, { stateDir: null, tls: files, nodeIdentity: "cn" });
    const leaf = await makeLeaf(ca, { cn: "edge-0" });
    client.cert = join(tmp, "edge-0.pem");
    client.key = join(tmp, "edge-0-key.pem");
    client.ca = files.clientCaFile;
    await writeFile(client.cert, leaf.cert);
    await writeFile(client.key, leaf.key);
  });
  afterAll(async () => {
    await app?.close(0);
    await removeFolder(dir);
  });

  it("brings a node live with --ca, --tls-cert and --tls-key", async () => {
    const term = memoryTerminal();
    const args = ["sim", "--nodes", "1", "--id-prefix", "edge-", "--xds-address", `127.0.0.1:${app.xdsAddress.port}`, "--duration", "1500ms", "--interval", "500ms", "--log-level", "silent"];
    const code = await main([...args, "--ca", client.ca, "--tls-cert", client.cert, "--tls-key", client.key], term);
    const { out, err } = term.text();
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out.trim().split("\n").at(-1)).toMatch(/^final: 1 nodes: 1 connected, 1 live /);
  });

  it("refuses a certificate without its key (usage) and names an unreadable file with its flag", async () => {
    const term = memoryTerminal();
    expect(await main(["sim", "--tls-cert", client.cert, "--ca", client.ca], term)).toBe(2);
    expect(term.text().err).toContain("error [USAGE]: --tls-cert and --tls-key go together");
    const term2 = memoryTerminal();
    const missing = join(tmp, "missing.pem");
    expect(await main(["sim", "--ca", missing], term2)).toBe(1);
    expect(term2.text().err).toContain(`error [TLS_INVALID]: --ca ${missing}: cannot be read`);
  });
});
