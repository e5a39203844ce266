/**
 * Test certificates, made at test time and never committed: a CA, server
 * and client certificates signed by it (with CN, DNS, IP and URI SANs as
 * asked), written as PEM files for the control plane's --tls-* options and
 * as buffers for gRPC client credentials. @peculiar/x509 over Node's
 * WebCrypto, so no openssl is needed on the machine.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill loaded first.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const crypto = webcrypto;
// Node's webcrypto is the provider @peculiar/x509 expects; its Crypto type differs by lib (node or dom) only in name.
x509.cryptoProvider.set(webcrypto as never);
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 24 * 3600_000;

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

export interface TestCa extends Pem {
  readonly name: string;
  readonly keys: CryptoKeyPair;
}

export interface LeafOptions {
  readonly cn: string;
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  readonly uris?: readonly string[];
  /** Validity (default: from a day ago to 90 days ahead). */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

export async function makeCa(name = "wasmxds test CA"): Promise<TestCa> {
  const keys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: ALG,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { name, keys, cert: cert.toString("pem"), key: await keyPem(keys.privateKey) };
}

/** A certificate signed by `ca`, usable as server and as client certificate. */
export async function makeLeaf(ca: TestCa, options: LeafOptions): Promise<Pem> {
  const keys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const names: x509.JsonGeneralName[] = [
    ...(options.dns ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.ips ?? []).map((value) => ({ type: "ip" as const, value })),
    ...(options.uris ?? []).map((value) => ({ type: "url" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${options.cn}`,
    issuer: `CN=${ca.name}`,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALG,
    notBefore: options.notBefore ?? new Date(Date.now() - DAY),
    notAfter: options.notAfter ?? new Date(Date.now() + 90 * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  return { cert: cert.toString("pem"), key: await keyPem(keys.privateKey) };
}

/** The server's certificate for 127.0.0.1 (what the test clients dial). */
export function makeServerCert(ca: TestCa, options: Partial<LeafOptions> = {}): Promise<Pem> {
  return makeLeaf(ca, { cn: "wasmxds", dns: ["localhost"], ips: ["127.0.0.1"], ...options });
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile: string;
}

/** Writes the server's certificate, key and the client CA into `dir`. */
export async function writeTlsFiles(dir: string, server: Pem, clientCa: Pem): Promise<TlsFiles> {
  const files = { certFile: join(dir, "server.pem"), keyFile: join(dir, "server-key.pem"), clientCaFile: join(dir, "client-ca.pem") };
  await Promise.all([writeFile(files.certFile, server.cert), writeFile(files.keyFile, server.key), writeFile(files.clientCaFile, clientCa.cert)]);
  return files;
}

/** gRPC channel credentials trusting `serverCa`, presenting `client` if given. */
export function clientCredentials(serverCa: Pem, client?: Pem): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(serverCa.cert), client ? Buffer.from(client.key) : null, client ? Buffer.from(client.cert) : null);
}
