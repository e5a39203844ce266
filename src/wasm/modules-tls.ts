/**
 * `--modules-tls` and `--modules-ca`: what the module server serves https
 * with (the gRPC port's certificate, rotation included) and what Envoys are
 * told to verify it with. Checked at start so a wrong flag or an unreadable
 * CA file stops `serve` with a message naming it, instead of Envoys failing
 * every fetch later.
 */
import { X509Certificate } from "node:crypto";
import { WasmxdsError, errorMessage } from "../errors";
import { readFlagFile } from "../fs/flag-file";
import type { CertificateFiles } from "../net/grpc-tls";
import type { ModuleServerTls } from "./module-server";

export interface ModulesTls {
  /** The module server's certificate and its changes. */
  readonly source: ModuleServerTls;
  /** What goes into the wasmxds_modules cluster's UpstreamTlsContext (resources/module-cluster.ts ModuleServerTls). */
  readonly envoy: { readonly trustedCa?: string };
}

/** The module server's TLS for `--modules-tls` (undefined when not asked for). */
export function modulesTlsFor(options: { readonly caFile?: string } | undefined, tls: CertificateFiles | undefined): ModulesTls | undefined {
  if (!options) return undefined;
  if (!tls) throw new WasmxdsError("USAGE", "--modules-tls serves modules on the gRPC port's certificate: give --tls-cert and --tls-key as well");
  if (options.caFile === undefined) return { source: tls, envoy: {} };
  return { source: tls, envoy: { trustedCa: readCa(options.caFile) } };
}

function readCa(file: string): string {
  const text = readFlagFile(file, "--modules-ca", "TLS_INVALID").toString("utf8");
  try {
    new X509Certificate(text);
  } catch (err) {
    throw new WasmxdsError("TLS_INVALID", `--modules-ca ${file}: expected PEM CA certificates: ${errorMessage(err)}`, { cause: err });
  }
  return text;
}
