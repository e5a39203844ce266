/**
 * Registry auth against a real registry: basic auth (htpasswd, bcrypt made
 * at test time) and the Docker token flow (the registry's Bearer challenge,
 * a token service checking the pullSecret's credentials, JWTs the registry
 * verifies), with credentials from a docker config.json.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModuleStore } from "../../src/wasm/module-store";
import { OciResolver, type OciSource } from "../../src/wasm/oci";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { bcryptHash } from "../helpers/bcrypt";
import { SKIP_REASON, type TestRegistry, registryAvailable, startRegistry, wasmArtifact } from "../helpers/oci-registry";
import { fixture } from "../helpers/wasm-bytes";

const good = fixture("good_http");
const allow = { allowPrivateFetch: true };
const USER = { username: "puller", password: "s3cret:with-colon" };

if (!registryAvailable) console.warn(`skipping OCI registry tests: ${SKIP_REASON}`);

it("bcrypt matches OpenBSD's test vectors (the htpasswd the registry checks)", () => {
  expect(bcryptHash("U*U", 5, "CCCCCCCCCCCCCCCCCCCCC.")).toBe("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
  expect(bcryptHash("", 6, "DCq7YPn5Rq63x1Lad4cll.")).toBe("$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.");
});

describe.skipIf(!registryAvailable)("registry auth from a pullSecret", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wasmxds-oci-auth-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const secret = async (name: string, auths: Record<string, unknown>) => {
    const file = join(dir, name);
    await writeFile(file, JSON.stringify({ auths }));
    return { label: `secrets/${name}`, read: () => readFile(file, "utf8") };
  };
  const pull = async (reference: string, extra: Partial<OciSource> = {}) => {
    const resolver = await OciResolver.open({ store: new ModuleStore() });
    return resolver.resolve({ reference, pullPolicy: "IfNotPresent", insecure: true, ...extra }, allow);
  };
  const b64 = (u: string, p: string) => Buffer.from(`${u}:${p}`).toString("base64");

  for (const kind of ["htpasswd", "token"] as const) {
    describe(kind === "htpasswd" ? "basic auth (htpasswd)" : "bearer token challenge (Docker token flow)", () => {
      let registry: TestRegistry;
      let ref: string;
      beforeAll(async () => {
        registry = await startRegistry({ auth: { kind, ...USER } });
        await registry.push("private/auth", wasmArtifact(good), "v1");
        ref = `oci://${registry.host}/private/auth:v1`;
      });
      afterAll(async () => {
        await registry?.stop();
      });

      it("pulls with the pullSecret's auth entry (base64 user:password), and with username/password under an https://host/ key", async () => {
        const s1 = await secret(`${kind}-auth.json`, { [registry.host]: { auth: b64(USER.username, USER.password) } });
        expect((await pull(ref, { pullSecret: s1 })).sha256).toBe(sha256Hex(good));
        const s2 = await secret(`${kind}-userpass.json`, { "other.example.com": { auth: b64("x", "y") }, [`https://${registry.host}/v1/`]: USER });
        expect((await pull(ref, { pullSecret: s2 })).sha256).toBe(sha256Hex(good));
        if (kind === "token") expect(registry.tokensIssued).toEqual([USER.username, USER.username]);
      });

      it("without credentials the error says to set pullSecret", async () => {
        const message =
          kind === "htpasswd"
            ? `${ref}: HTTP 401 Unauthorized: the registry asks for basic auth and there are no credentials for this registry: set pullSecret to a docker config.json with an entry for ${registry.host}`
            : new RegExp(`^${ref}: token service http://127\\.0\\.0\\.1:\\d+/token refused an anonymous token; no credentials for this registry: set pullSecret to a docker config.json with an entry for ${registry.host} \\(HTTP 401\\)`);
        await expect(pull(ref)).rejects.toThrow(message);
        const other = await secret(`${kind}-other.json`, { "other.example.com": USER });
        await expect(pull(ref, { pullSecret: other })).rejects.toThrow(message);
      });

      it("wrong credentials are a clear 401", async () => {
        const wrong = await secret(`${kind}-wrong.json`, { [registry.host]: { auth: b64(USER.username, "nope") } });
        const message =
          kind === "htpasswd"
            ? `${ref}: HTTP 401 Unauthorized for manifest v1: the registry refused the pullSecret's credentials`
            : new RegExp(`^${ref}: token service http://127\\.0\\.0\\.1:\\d+/token refused the pullSecret's credentials \\(HTTP 401\\): UNAUTHORIZED bad credentials$`);
        await expect(pull(ref, { pullSecret: wrong })).rejects.toMatchObject({ code: "MODULE_FETCH_FAILED", message: expect.stringMatching(message instanceof RegExp ? message : new RegExp(`^${escapeRegExp(message)}$`)) });
      });
    });
  }

  it("the token realm the registry names is vetted by the SSRF guard like the registry itself", async () => {
    const registry = await startRegistry({ auth: { kind: "token", ...USER, realm: "http://169.254.169.254/latest/meta-data/token" } });
    try {
      const ref = `oci://${registry.host}/private/auth:v1`;
      const s = await secret("metadata.json", { [registry.host]: USER });
      // The registry's own address is let through by name; the realm it points to is not.
      const resolver = await OciResolver.open({ store: new ModuleStore(), allowAddresses: ["127.0.0.1"] });
      await expect(resolver.resolve({ reference: ref, pullPolicy: "IfNotPresent", insecure: true, pullSecret: s }, { allowPrivateFetch: false })).rejects.toMatchObject({
        code: "MODULE_FETCH_FAILED",
        message: `${ref}: http://169.254.169.254/latest/meta-data/token?service=wasmxds-test&scope=repository%3Aprivate%2Fauth%3Apull: 169.254.169.254 is a link-local address; set server.allowPrivateFetch: true to fetch from it`,
      });
      expect(registry.tokensIssued).toEqual([]);
    } finally {
      await registry.stop();
    }
  });

  it("a pullSecret that is not a docker config.json is named, and its contents never are", async () => {
    const ref = "oci://127.0.0.1:1/x:v1";
    const err = await pull(ref, { pullSecret: { label: "secrets/bad.json", read: async () => '{"token": "hunter2"' } }).then(
      () => new Error("pulled"),
      (e: unknown) => e as Error,
    );
    expect(err.message).toBe("pullSecret secrets/bad.json: expected docker config.json (JSON), and it does not parse");
    expect(err.message).not.toContain("hunter2");
    const helper = await secret("helper.json", { "127.0.0.1:1": { identitytoken: "refresh" } });
    await expect(pull(ref, { pullSecret: helper })).rejects.toThrow('pullSecret secrets/helper.json: auths["127.0.0.1:1"]: identitytoken is not supported; give auth or username and password');
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
