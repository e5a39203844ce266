/**
 * Every dynamic resource wasmxds hands Envoy refers to the others over the
 * same ADS stream: `ads: {}` with resource_api_version V3 (Envoy's
 * "Aggregated Discovery Service" docs; a ConfigSource without an explicit V3
 * version is rejected by current Envoys).
 */
import type { ConfigSource } from "../generated/envoy/config/core/v3/ConfigSource";

export function adsConfigSource(): ConfigSource {
  return { ads: {}, resource_api_version: "V3" };
}
