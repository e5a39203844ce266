/**
 * TLS for the gRPC port (xDS, metrics service, access log service):
 * `--tls-cert`, `--tls-key`, and `--client-ca` for mTLS (a client without a
 * certificate signed by that CA is refused at the handshake).
 *
 * Certificates rotate without a restart: the files are checked on the
 * injected clock and a changed set is handed to grpc-js through its
 * certificate-provider interface (grpc.experimental, grpc-js 1.14), which
 * calls setSecureContext on its HTTP/2 server, so new connections get the
 * new certificate and open ones keep theirs. grpc-js's own
 * FileWatcherCertificateProvider is not used: it hands over whatever it
 * read, so a certificate written before its key (a rotation half done)
 * or a file briefly missing makes grpc-js drop every new connection until
 * the next read. Here a set is checked (the key matches the certificate,
 * a secure context can be made) before it replaces the one in use; a bad
 * set is reported and the old one kept. A certificate expiring within 30
 * days (or expired) is reported at start, on every change and once a day.
 */
import { X509Certificate, createHash, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { WasmxdsError, errorMessage } from "../errors";
import { type Logger, silentLogger } from "../logger";
import { type Clock, type TimerHandle, every, realClock } from "../time/clock";

type CertificateProvider = grpc.experimental.CertificateProvider;
type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

export interface GrpcTlsOptions {
  /** PEM certificate chain the server presents (`--tls-cert`). */
  readonly certFile: string;
  /** PEM private key of that certificate (`--tls-key`). */
  readonly keyFile: string;
  /** PEM CA bundle client certificates must chain to (`--client-ca`); unset: no client certificate is asked for. */
  readonly clientCaFile?: string;
}

export const TLS_REFRESH_MS = 5000;
export const EXPIRY_WARNING_MS = 30 * 24 * 3600_000;
const DAY_MS = 24 * 3600_000;

export type TlsEventKind = "tls-reloaded" | "tls-reload-failed" | "tls-expiring";

export interface CertificateFilesOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** How often the files are checked for changes (default 5 s). */
  readonly refreshMs?: number;
  /** Told of reloads, refused reloads and expiring certificates (main.ts records them as events). */
  readonly onEvent?: (kind: TlsEventKind, message: string, details: Record<string, unknown>) => void;
}

interface Material {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  readonly leaf: X509Certificate;
}

/** The certificate, key and client CA files, checked and re-read when they change. */
export class CertificateFiles implements CertificateProvider {
  private material: Material;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly timer: TimerHandle;
  private reading = false;
  /** The last refused set (a digest), so one bad rotation is reported once. */
  private lastRefused: string | undefined;
  private readonly warnedAt = new Map<string, number>();

  /** Reads and checks the files now; throws WasmxdsError TLS_INVALID naming the file and flag. */
  constructor(
    readonly files: GrpcTlsOptions,
    private readonly options: CertificateFilesOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? realClock;
    const read = (file: string, flag: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new WasmxdsError("TLS_INVALID", `${flag} ${file}: cannot be read: ${errorMessage(err)}`, { cause: err });
      }
    };
    const cert = read(files.certFile, "--tls-cert");
    const key = read(files.keyFile, "--tls-key");
    const ca = files.clientCaFile === undefined ? undefined : read(files.clientCaFile, "--client-ca");
    this.material = check(files, cert, key, ca);
    this.warnIfExpiring();
    this.timer = every(this.clock, options.refreshMs ?? TLS_REFRESH_MS, () => {
      // refresh() reports its own failures; this only catches a bug in it.
      this.refresh().catch((err: unknown) => this.logger.error("re-reading the TLS files failed", { err: errorMessage(err) }));
    });
  }

  /** Whether clients must present a certificate signed by the client CA. */
  get requiresClientCertificate(): boolean {
    return this.files.clientCaFile !== undefined;
  }

  /** The certificate chain and key in use now (PEM), for another server on the same certificate (the module server). */
  get identity(): { readonly cert: Buffer; readonly key: Buffer } {
    return { cert: this.material.cert, key: this.material.key };
  }

  /** The client CA bundle in use now (PEM), when client certificates are required. */
  get clientCa(): Buffer | undefined {
    return this.material.ca;
  }

  /** The certificate the server presents now. */
  get certificate(): X509Certificate {
    return this.material.leaf;
  }

  /** Re-reads the files; a changed, valid set replaces the one in use (tests call it; otherwise every refreshMs). */
  async refresh(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const { certFile, keyFile, clientCaFile } = this.files;
      const [cert, key, ca] = await Promise.all([readFile(certFile), readFile(keyFile), clientCaFile === undefined ? undefined : readFile(clientCaFile)]);
      const m = this.material;
      if (cert.equals(m.cert) && key.equals(m.key) && (ca === undefined || (m.ca !== undefined && ca.equals(m.ca)))) {
        // Back to the set in use (a file was missing for a while): the next problem is news again.
        this.lastRefused = undefined;
        this.warnIfExpiring();
        return;
      }
      this.replace(cert, key, ca);
    } catch (err) {
      this.refuse(errorMessage(err), "unreadable");
    } finally {
      this.reading = false;
    }
  }

  close(): void {
    this.timer.cancel();
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    const ca = this.material.ca;
    process.nextTick(() => listener(ca ? { caCertificate: ca } : null));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    const { cert, key } = this.material;
    process.nextTick(() => listener({ certificate: cert, privateKey: key }));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  private replace(cert: Buffer, key: Buffer, ca: Buffer | undefined): void {
    let next: Material;
    try {
      next = check(this.files, cert, key, ca);
    } catch (err) {
      this.refuse(errorMessage(err), createHash("sha256").update(cert).update(key).update(ca ?? "").digest("hex"));
      return;
    }
    this.material = next;
    this.lastRefused = undefined;
    const details = { certFile: this.files.certFile, subject: next.leaf.subject, validTo: next.leaf.validTo, fingerprint: next.leaf.fingerprint256 };
    this.logger.info("TLS certificate files changed; new connections use them", details);
    this.options.onEvent?.("tls-reloaded", "TLS certificate files reloaded", details);
    for (const l of this.identityListeners) l({ certificate: next.cert, privateKey: next.key });
    if (next.ca) for (const l of this.caListeners) l({ caCertificate: next.ca });
    this.warnIfExpiring();
  }

  private refuse(reason: string, digest: string): void {
    if (this.lastRefused === digest) return;
    this.lastRefused = digest;
    const details = { certFile: this.files.certFile, keyFile: this.files.keyFile, clientCaFile: this.files.clientCaFile, reason };
    this.logger.warn("TLS certificate files changed but cannot be used; keeping the ones in use", details);
    this.options.onEvent?.("tls-reload-failed", `TLS certificate files refused: ${reason}`, details);
  }

  private warnIfExpiring(): void {
    const leaf = this.material.leaf;
    const now = this.clock.now();
    const left = Date.parse(leaf.validTo) - now;
    if (left > EXPIRY_WARNING_MS) return;
    const last = this.warnedAt.get(leaf.fingerprint256);
    if (last !== undefined && now - last < DAY_MS) return;
    this.warnedAt.set(leaf.fingerprint256, now);
    const days = Math.floor(left / DAY_MS);
    const message = left <= 0 ? `the TLS certificate ${this.files.certFile} has expired (${leaf.validTo})` : `the TLS certificate ${this.files.certFile} expires in ${days} days (${leaf.validTo})`;
    const details = { certFile: this.files.certFile, subject: leaf.subject, validTo: leaf.validTo, daysLeft: days };
    this.logger.warn(message, details);
    this.options.onEvent?.("tls-expiring", message, details);
  }
}

/** Parses and checks a set: the key matches the certificate and Node can make a secure context of it. */
function check(files: GrpcTlsOptions, cert: Buffer, key: Buffer, ca: Buffer | undefined): Material {
  const fail = (flag: string, file: string, why: string, cause?: unknown): never => {
    throw new WasmxdsError("TLS_INVALID", `${flag} ${file}: ${why}`, { cause });
  };
  let leaf: X509Certificate | undefined;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    fail("--tls-cert", files.certFile, `expected a PEM certificate: ${errorMessage(err)}`, err);
  }
  try {
    if (!leaf?.checkPrivateKey(createPrivateKey(key))) fail("--tls-key", files.keyFile, `is not the private key of the certificate in ${files.certFile}`);
  } catch (err) {
    if (err instanceof WasmxdsError) throw err;
    fail("--tls-key", files.keyFile, `expected a PEM private key: ${errorMessage(err)}`, err);
  }
  if (ca !== undefined && files.clientCaFile !== undefined) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      fail("--client-ca", files.clientCaFile, `expected PEM CA certificates: ${errorMessage(err)}`, err);
    }
  }
  try {
    createSecureContext({ cert, key, ...(ca && { ca }) });
  } catch (err) {
    fail("--tls-cert", files.certFile, `cannot be used for TLS: ${errorMessage(err)}`, err);
  }
  return { cert, key, ca, leaf: leaf as X509Certificate };
}

/**
 * gRPC server credentials over the files. grpc-js 1.14 declares
 * createCertificateProviderServerCredentials(ca, identity, require) but
 * passes its first two arguments on as (identity, ca): the provider of the
 * certificate and key goes first, and the same provider serves as the CA
 * one when client certificates are required.
 */
export function tlsServerCredentials(files: CertificateProvider & { readonly requiresClientCertificate: boolean }): grpc.ServerCredentials {
  const mtls = files.requiresClientCertificate;
  return grpc.experimental.createCertificateProviderServerCredentials(files, mtls ? files : null, mtls);
}

/** PEM material a CertificateFiles read and checked. */
export interface CertificateMaterial {
  readonly cert: Uint8Array;
  readonly key: Uint8Array;
  readonly ca?: Uint8Array;
}

/**
 * Certificates handed over rather than read: an xDS worker process serves
 * what its main process's CertificateFiles read and checked, and changes
 * when that one does (on the main process's clock; xds/workers/).
 */
export class CertificateRelay implements CertificateProvider {
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();

  constructor(private material: CertificateMaterial) {}

  get requiresClientCertificate(): boolean {
    return this.material.ca !== undefined;
  }

  set(material: CertificateMaterial): void {
    this.material = material;
    const { cert, key, ca } = buffers(material);
    for (const l of this.identityListeners) l({ certificate: cert, privateKey: key });
    if (ca) for (const l of this.caListeners) l({ caCertificate: ca });
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    const { ca } = buffers(this.material);
    process.nextTick(() => listener(ca ? { caCertificate: ca } : null));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    const { cert, key } = buffers(this.material);
    process.nextTick(() => listener({ certificate: cert, privateKey: key }));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

function buffers(m: CertificateMaterial): { cert: Buffer; key: Buffer; ca: Buffer | undefined } {
  return { cert: asBuffer(m.cert), key: asBuffer(m.key), ca: m.ca && asBuffer(m.ca) };
}
