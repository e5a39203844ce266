// Original file: /work/main/protos/envoy/extensions/wasm/v3/wasm.proto

import type { SanitizationConfig as _envoy_extensions_wasm_v3_SanitizationConfig, SanitizationConfig__Output as _envoy_extensions_wasm_v3_SanitizationConfig__Output } from '../../../../envoy/extensions/wasm/v3/SanitizationConfig';

export interface CapabilityRestrictionConfig {
  'allowed_capabilities'?: ({[key: string]: _envoy_extensions_wasm_v3_SanitizationConfig});
}

export interface CapabilityRestrictionConfig__Output {
  'allowed_capabilities': ({[key: string]: _envoy_extensions_wasm_v3_SanitizationConfig__Output});
}
