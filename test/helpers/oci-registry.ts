/**
 * A real OCI registry for tests: Debian's docker-registry (the CNCF
 * distribution registry, installed by .ci/run) started on a free loopback
 * port with a generated config in a temp folder, plus a push helper that
 * speaks the registry HTTP API (blob upload POST + PUT, manifest PUT); the
 * images it pushes are built in test/helpers/oci-images.ts.
 *
 * Auth: `token` runs the Docker token flow for real — a small token
 * service here checks basic credentials and issues ES256 JWTs with an x5c
 * header, and the registry verifies them against the test CA
 * (auth.token.rootcertbundle). `htpasswd` uses the registry's basic auth
 * with a bcrypt file made at test time (test/helpers/bcrypt.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, webcrypto } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { type Server, createServer } from "node:http";
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bcryptHash } from "./bcrypt";
import { type Pem, type TestCa, makeCa, makeServerCert } from "./certificates";
import { freePort } from "./ports";
import { type Image, digest } from "./oci-images";

export { type Blob, type Image, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, WASM_CONFIG, WASM_LAYER, digest, indexOf, tarImage, tarOf, wasmArtifact } from "./oci-images";

export const REGISTRY_BINARY = "/usr/bin/docker-registry";
export const registryAvailable = existsSync(REGISTRY_BINARY);
export const SKIP_REASON = `${REGISTRY_BINARY} is not installed (apt-get install docker-registry; .ci/run does)`;

export interface RegistryOptions {
  /** Who may pull: anyone (default), the token flow, or htpasswd basic auth. */
  readonly auth?: { readonly kind: "token" | "htpasswd"; readonly username: string; readonly password: string; readonly realm?: string };
  /** Serve https with a certificate from this CA (for 127.0.0.1). */
  readonly tlsCa?: TestCa;
}

export interface TestRegistry {
  /** host:port */
  readonly host: string;
  readonly scheme: "http" | "https";
  /** The token service, when auth is token: how many tokens it issued, by user ("" = anonymous). */
  readonly tokensIssued: string[];
  /** Pushes an image (and an index's children) and tags it `reference`; returns the manifest digest. */
  push(repo: string, image: Image, reference: string): Promise<string>;
  pushBlob(repo: string, bytes: Buffer): Promise<string>;
  /** Stops the registry and removes its data. */
  stop(): Promise<void>;
  /** Stops the registry, keeping its data: "down" until restart(). */
  down(): Promise<void>;
  restart(): Promise<void>;
}

interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "wasmxds-registry-"));
  const scheme = options.tlsCa ? "https" : "http";
  let tls: Pem | undefined;
  if (options.tlsCa) {
    tls = await makeServerCert(options.tlsCa);
    await writeFile(join(dir, "tls.crt"), `${tls.cert}\n${options.tlsCa.cert}\n`);
    await writeFile(join(dir, "tls.key"), `${tls.key}\n`);
  }
  const tokensIssued: string[] = [];
  let tokenServer: Server | undefined;
  let signer: TokenSigner | undefined;
  let authYaml = "";
  const auth = options.auth;
  if (auth?.kind === "htpasswd") {
    await writeFile(join(dir, "htpasswd"), `${auth.username}:${bcryptHash(auth.password, 5)}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: wasmxds-test\n    path: ${join(dir, "htpasswd")}\n`;
  } else if (auth?.kind === "token") {
    signer = await TokenSigner.create();
    await writeFile(join(dir, "token-ca.pem"), signer.ca.cert);
    const s = signer;
    tokenServer = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const header = req.headers.authorization ?? "";
      const basic = header.startsWith("Basic ") ? Buffer.from(header.slice(6), "base64").toString() : "";
      const user = basic.slice(0, Math.max(0, basic.indexOf(":")));
      const pass = basic.slice(basic.indexOf(":") + 1);
      if (user !== auth.username || pass !== auth.password) {
        res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
        return;
      }
      tokensIssued.push(user);
      s.sign(user, url.searchParams.get("scope") ?? "").then(
        (token) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token })),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
    await new Promise<void>((resolve) => tokenServer?.listen(0, "127.0.0.1", resolve));
    const realm = auth.realm ?? `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
    authYaml = `auth:\n  token:\n    realm: ${realm}\n    service: wasmxds-test\n    issuer: wasmxds-test-issuer\n    rootcertbundle: ${join(dir, "token-ca.pem")}\n`;
  }
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  await writeFile(
    join(dir, "config.yml"),
    `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, "data")}
  delete:
    enabled: true
http:
  addr: ${host}
  secret: ${randomBytes(16).toString("hex")}
${tls ? `  tls:\n    certificate: ${join(dir, "tls.crt")}\n    key: ${join(dir, "tls.key")}\n` : ""}${authYaml}`,
  );
  let child: ChildProcess | undefined;
  let output = "";
  const ca = options.tlsCa?.cert;

  const call = (method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Response> =>
    new Promise((resolve, reject) => {
      const request = scheme === "https" ? httpsRequest : httpRequest;
      const req = request(`${scheme}://${host}${path.startsWith("http") ? new URL(path).pathname + new URL(path).search : path}`, { method, headers, ...(ca && { ca }) }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      req.end(body);
    });

  const authHeader = async (repo: string): Promise<Record<string, string>> => {
    if (!auth) return {};
    if (auth.kind === "htpasswd") return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` };
    return { authorization: `Bearer ${await signer?.sign(auth.username, `repository:${repo}:pull,push`)}` };
  };

  const start = async () => {
    child = spawn(REGISTRY_BINARY, ["serve", join(dir, "config.yml")], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    child.stderr?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${output}`);
      try {
        const r = await call("GET", "/v2/", {});
        if (r.status === 200 || r.status === 401) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`docker-registry did not start on ${host}: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stopChild = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((resolve) => c.once("exit", resolve));
    c.kill("SIGTERM");
    await exited;
  };
  await start();

  const pushBlob = async (repo: string, bytes: Buffer): Promise<string> => {
    const d = digest(bytes);
    const headers = await authHeader(repo);
    const started = await call("POST", `/v2/${repo}/blobs/uploads/`, headers);
    if (started.status !== 202) throw new Error(`blob upload POST: HTTP ${started.status} ${started.body}`);
    const location = String(started.headers.location);
    const target = new URL(location, `${scheme}://${host}`);
    target.searchParams.set("digest", d);
    const put = await call("PUT", target.pathname + target.search, { ...headers, "content-type": "application/octet-stream", "content-length": String(bytes.length) }, bytes);
    if (put.status !== 201) throw new Error(`blob upload PUT: HTTP ${put.status} ${put.body}`);
    return d;
  };

  const push = async (repo: string, image: Image, reference: string): Promise<string> => {
    for (const child of image.children ?? []) await push(repo, child, digest(child.manifest));
    for (const b of image.blobs) await pushBlob(repo, b.bytes);
    const headers = await authHeader(repo);
    const r = await call("PUT", `/v2/${repo}/manifests/${reference}`, { ...headers, "content-type": image.mediaType }, image.manifest);
    if (r.status !== 201) throw new Error(`manifest PUT ${repo}:${reference}: HTTP ${r.status} ${r.body}`);
    return String(r.headers["docker-content-digest"]);
  };

  return {
    host,
    scheme,
    tokensIssued,
    push,
    pushBlob,
    restart: start,
    stop: async () => {
      await stopChild();
      await new Promise((resolve) => (tokenServer ? tokenServer.close(resolve) : resolve(undefined)));
      await rm(dir, { recursive: true, force: true });
    },
    down: stopChild,
  };
}

/** Signs registry tokens (JWT, ES256, x5c) with a self-signed CA the registry trusts. */
class TokenSigner {
  private constructor(readonly ca: TestCa) {}

  static async create(): Promise<TokenSigner> {
    return new TokenSigner(await makeCa("wasmxds token issuer"));
  }

  async sign(subject: string, scope: string): Promise<string> {
    const der = this.ca.cert.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    const now = Math.floor(Date.now() / 1000);
    const access = scope
      .split(" ")
      .filter((s) => s !== "")
      .map((s) => {
        const [type, name, actions] = s.split(":");
        return { type, name, actions: (actions ?? "").split(",") };
      });
    const b64url = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "ES256", x5c: [der] }));
    const claims = b64url(JSON.stringify({ iss: "wasmxds-test-issuer", sub: subject, aud: "wasmxds-test", exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString("hex"), access }));
    const signature = await webcrypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, this.ca.keys.privateKey, Buffer.from(`${header}.${claims}`));
    return `${header}.${claims}.${b64url(new Uint8Array(signature))}`;
  }
}
