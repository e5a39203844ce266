// Original file: /work/main/protos/envoy/extensions/filters/network/wasm/v3/wasm.proto

import type { PluginConfig as _envoy_extensions_wasm_v3_PluginConfig, PluginConfig__Output as _envoy_extensions_wasm_v3_PluginConfig__Output } from '../../../../../../envoy/extensions/wasm/v3/PluginConfig';

export interface Wasm {
  'config'?: (_envoy_extensions_wasm_v3_PluginConfig | null);
}

export interface Wasm__Output {
  'config': (_envoy_extensions_wasm_v3_PluginConfig__Output | null);
}
