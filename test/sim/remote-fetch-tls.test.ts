/**
 * A simulated Envoy fetching remote Wasm code from a cluster with an
 * UpstreamTlsContext verifies the module server exactly as the context says
 * (docs/ENVOY.md, "Upstream TLS for the module cluster"): no validation
 * context, no verification; trusted_ca, the chain must lead to it; SAN
 * matchers, one must match. A real https module server with test-time
 * certificates.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryLogger } from "../../src/logger";
import type { UpstreamTls } from "../../src/sim/config/upstream-tls";
import type { RemoteCode } from "../../src/sim/wasm/plugin-spec";
import { fetchOnce } from "../../src/sim/wasm/remote-fetch";
import { FakeClock } from "../../src/time/fake-clock";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { ModuleStore } from "../../src/wasm/module-store";
import { type ModuleServer, startModuleServer } from "../../src/wasm/module-server";
import { type TestCa, makeCa, makeServerCert } from "../helpers/certificates";
import { fixture } from "../helpers/wasm-bytes";

describe("remote code over an upstream TLS cluster", () => {
  let ca: TestCa;
  let other: TestCa;
  let server: ModuleServer;
  let code: RemoteCode;

  beforeAll(async () => {
    ca = await makeCa();
    other = await makeCa("another CA");
    const pem = await makeServerCert(ca);
    const identity = { cert: Buffer.from(pem.cert), key: Buffer.from(pem.key) };
    const store = new ModuleStore();
    const bytes = fixture("good_http");
    await store.put(bytes);
    server = await startModuleServer({
      store,
      host: "127.0.0.1",
      port: 0,
      logger: memoryLogger(),
      tls: { identity, addIdentityCertificateListener: () => {}, removeIdentityCertificateListener: () => {} },
    });
    const sha256 = sha256Hex(bytes);
    code = { kind: "remote", uri: server.url(sha256), cluster: "wasmxds_modules", timeoutMs: 5000, sha256, retries: 0, backoffBaseMs: 1000, backoffMaxMs: 10_000, nackOnCacheMiss: false };
  });
  afterAll(async () => {
    await server?.close();
  });

  const fetchWith = (tls: UpstreamTls | undefined) =>
    fetchOnce(code, {
      clock: new FakeClock(),
      random: () => 0.5,
      resolveCluster: () => ({ host: "127.0.0.1", port: server.address.port, ...(tls && { tls }) }),
    });

  it("serves an https URI", () => {
    expect(code.uri).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/modules\/[0-9a-f]{64}\.wasm$/);
  });

  it("without a validation context: encrypted, not verified (any certificate is accepted)", async () => {
    expect((await fetchWith({ sni: "", trustedCa: undefined, sanMatchers: [] })).ok).toBe(true);
  });

  it("with trusted_ca and a matching SAN: fetched", async () => {
    expect((await fetchWith({ sni: "", trustedCa: ca.cert, sanMatchers: [{ type: "IP_ADDRESS", exact: "127.0.0.1" }] })).ok).toBe(true);
  });

  it("with trusted_ca of another CA: refused", async () => {
    const outcome = await fetchWith({ sni: "", trustedCa: other.cert, sanMatchers: [] });
    expect(outcome).toMatchObject({ ok: false, reason: expect.stringMatching(/^fetch remote data failed: .*certificate/) });
  });

  it("with the right CA but no SAN matching: refused, naming the matchers", async () => {
    const outcome = await fetchWith({ sni: "", trustedCa: ca.cert, sanMatchers: [{ type: "DNS", exact: "modules.example.internal" }] });
    expect(outcome).toMatchObject({ ok: false, reason: expect.stringContaining("does not match any of the SAN matchers (DNS:modules.example.internal)") });
  });

  it("plain http to the https server fails: the cluster's TLS is what makes the fetch work", async () => {
    expect((await fetchWith(undefined)).ok).toBe(false);
  });
});
