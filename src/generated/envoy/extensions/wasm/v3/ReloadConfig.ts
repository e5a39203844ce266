// Original file: /work/main/protos/envoy/extensions/wasm/v3/wasm.proto

import type { BackoffStrategy as _envoy_config_core_v3_BackoffStrategy, BackoffStrategy__Output as _envoy_config_core_v3_BackoffStrategy__Output } from '../../../../envoy/config/core/v3/BackoffStrategy';

export interface ReloadConfig {
  'backoff'?: (_envoy_config_core_v3_BackoffStrategy | null);
}

export interface ReloadConfig__Output {
  'backoff': (_envoy_config_core_v3_BackoffStrategy__Output | null);
}
