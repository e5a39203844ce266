/**
 * The proxy-wasm ABI versions Envoy understands. A module declares its
 * version by exporting a marker function named `proxy_abi_version_X_Y_Z`
 * (docs/ENVOY.md "proxy-wasm ABI"; proxy-wasm-cpp-host
 * src/bytecode_util.cc getAbiVersion).
 */
export type AbiVersion = "0.1.0" | "0.2.0" | "0.2.1";

export const ABI_VERSIONS: readonly AbiVersion[] = Object.freeze(["0.1.0", "0.2.0", "0.2.1"]);

/** Marker export name for each version. */
export const ABI_MARKERS: Readonly<Record<AbiVersion, string>> = Object.freeze({
  "0.1.0": "proxy_abi_version_0_1_0",
  "0.2.0": "proxy_abi_version_0_2_0",
  "0.2.1": "proxy_abi_version_0_2_1",
});

const BY_MARKER: ReadonlyMap<string, AbiVersion> = new Map(
  ABI_VERSIONS.map((v) => [ABI_MARKERS[v], v] as const),
);

/** The ABI version a marker export names, or undefined for any other export. */
export function abiVersionOfMarker(exportName: string): AbiVersion | undefined {
  return BY_MARKER.get(exportName);
}

/** True for names that look like an ABI marker, including versions Envoy does not know. */
export function looksLikeAbiMarker(exportName: string): boolean {
  return exportName.startsWith("proxy_abi_version_");
}
