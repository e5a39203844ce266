/**
 * `wasmxds serve` with the TLS flags exactly as issue 15 spells them:
 * --tls-cert, --tls-key, --client-ca, --node-identity. A real process
 * serves a raw ADS client over mTLS with node identity on, says so in its
 * ready line, and refuses flag combinations that cannot work before
 * listening (usage errors naming the flags).
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { AdsClient } from "../helpers/ads-client";
import { type TestCa, type TlsFiles, clientCredentials, makeCa, makeLeaf, makeServerCert, writeTlsFiles } from "../helpers/certificates";
import { main } from "../../src/cli/main";
import { startCli } from "../helpers/cli-process";
import { memoryTerminal } from "../helpers/terminal";
import { guardFolder, removeFolder } from "../helpers/config-folder";

describe("wasmxds serve --tls-cert --tls-key --client-ca --node-identity", () => {
  let dir: string;
  let ca: TestCa;
  let files: TlsFiles;
  const base = () => ["serve", "-c", dir, "--state-dir", "off", "--xds-address", "127.0.0.1:0", "--modules-address", "127.0.0.1:0", "--admin-address", "off"];

  beforeAll(async () => {
    dir = await guardFolder({ module: "good_http" });
    ca = await makeCa();
    files = await writeTlsFiles(await mkdtemp(join(tmpdir(), "wasmxds-serve-tls-")), await makeServerCert(ca), ca);
  });
  afterAll(async () => {
    await removeFolder(dir);
  });

  it("serves over mTLS with node identity cn, and refuses a node posing as another", async () => {
    const cli = startCli([...base(), "--tls-cert", files.certFile, "--tls-key", files.keyFile, "--client-ca", files.clientCaFile, "--node-identity", "cn"]);
    const clients: AdsClient[] = [];
    try {
      const ready = await cli.waitFor((l) => l.msg === "wasmxds ready");
      expect(ready).toMatchObject({ xdsTls: "mtls", nodeIdentity: "cn" });
      const port = Number(String(ready.xds).split(":").pop());
      const creds = clientCredentials(ca, await makeLeaf(ca, { cn: "edge-1" }));
      const served = new AdsClient(port, { id: "edge-1" }, creds);
      const posing = new AdsClient(port, { id: "edge-2" }, creds);
      clients.push(served, posing);
      served.request({ typeUrl: TYPE_URLS.listener });
      posing.request({ typeUrl: TYPE_URLS.listener });
      expect((await served.next(TYPE_URLS.listener)).resources.length).toBeGreaterThan(0);
      expect(await posing.ended).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringContaining('"edge-2"') });
    } finally {
      for (const c of clients) c.cancel();
      expect(await cli.stop()).toBe(0);
    }
  });

  it("refuses flag combinations that cannot work, before listening", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--tls-cert", files.certFile], /--tls-cert and --tls-key go together/],
      [["--client-ca", files.clientCaFile], /--client-ca needs --tls-cert and --tls-key/],
      [["--tls-cert", files.certFile, "--tls-key", files.keyFile, "--node-identity", "cn"], /--node-identity cn needs --client-ca/],
      [["--node-identity", "spiffe"], /--node-identity: expected one of off, cn, san-dns, san-uri, got "spiffe"/],
      [["--modules-tls"], /--modules-tls serves modules on the gRPC port's certificate: give --tls-cert and --tls-key/],
      [["--modules-ca", files.clientCaFile], /--modules-ca needs --modules-tls/],
      [["--max-connections-per-address", "many"], /--max-connections-per-address: expected a whole number \(0 for no limit\), got "many"/],
    ];
    // In process (the command's own entry, cli/main.ts), so the cases cost no process start each.
    for (const [flags, message] of cases) {
      const term = memoryTerminal();
      expect(await main([...base(), ...flags], term)).toBe(2);
      expect(term.text().err).toMatch(message);
    }
    // A CA file that is not one: a configuration error (exit 1) naming the flag and file.
    const term = memoryTerminal();
    expect(await main([...base(), "--tls-cert", files.certFile, "--tls-key", files.keyFile, "--modules-tls", "--modules-ca", files.keyFile], term)).toBe(1);
    expect(term.text().err).toMatch(/--modules-ca .*server-key\.pem: expected PEM CA certificates/);
  });
});
