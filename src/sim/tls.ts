/**
 * TLS for a simulated node's one connection to the control plane (ADS, the
 * metrics service and the access log service share it, as Envoy's
 * xds_cluster does in envoy/bootstrap-mtls.yaml): the CA the server's
 * certificate must chain to and, for mTLS, the node's own certificate.
 * `wasmxds sim --ca --tls-cert --tls-key` reads the files once at start.
 */
import * as grpc from "@grpc/grpc-js";
import { WasmxdsError } from "../errors";
import { readFlagFile } from "../fs/flag-file";

export interface SimTlsOptions {
  /** PEM CA bundle the control plane's certificate must chain to; unset: the system's roots. */
  readonly ca?: string | Buffer;
  /** PEM certificate chain the node presents (mTLS); needs `key`. */
  readonly cert?: string | Buffer;
  /** PEM private key of `cert`. */
  readonly key?: string | Buffer;
  /** Name to check the server's certificate against instead of the xDS host (like the bootstrap's sni). */
  readonly serverName?: string;
}

export interface SimTlsFiles {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

const buffer = (pem: string | Buffer | undefined): Buffer | null => (pem === undefined ? null : Buffer.from(pem));

/** Channel credentials and options for `tls`; throws WasmxdsError USAGE when only one of cert and key is given. */
export function simCredentials(tls: SimTlsOptions | undefined): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  if (!tls) return { credentials: grpc.credentials.createInsecure(), options: {} };
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new WasmxdsError("USAGE", "tls: a client certificate needs its key and a key needs its certificate (expected both cert and key, or neither)");
  }
  const credentials = grpc.credentials.createSsl(buffer(tls.ca), buffer(tls.key), buffer(tls.cert));
  const options: grpc.ChannelOptions = tls.serverName ? { "grpc.ssl_target_name_override": tls.serverName, "grpc.default_authority": tls.serverName } : {};
  return { credentials, options };
}

/** Reads the PEM files named by `wasmxds sim --ca --tls-cert --tls-key`; a file that cannot be read is named with its flag. */
export function readSimTlsFiles(files: SimTlsFiles): SimTlsOptions {
  const read = (file: string | undefined, flag: string): Buffer | undefined => (file === undefined ? undefined : readFlagFile(file, flag, "TLS_INVALID"));
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    throw new WasmxdsError("USAGE", "--tls-cert and --tls-key go together: expected both or neither");
  }
  return { ca: read(files.caFile, "--ca"), cert: read(files.certFile, "--tls-cert"), key: read(files.keyFile, "--tls-key") };
}
