// Original file: /work/main/protos/envoy/extensions/wasm/v3/wasm.proto

import type { AsyncDataSource as _envoy_config_core_v3_AsyncDataSource, AsyncDataSource__Output as _envoy_config_core_v3_AsyncDataSource__Output } from '../../../../envoy/config/core/v3/AsyncDataSource';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../../../google/protobuf/Any';
import type { EnvironmentVariables as _envoy_extensions_wasm_v3_EnvironmentVariables, EnvironmentVariables__Output as _envoy_extensions_wasm_v3_EnvironmentVariables__Output } from '../../../../envoy/extensions/wasm/v3/EnvironmentVariables';

export interface VmConfig {
  'vm_id'?: (string);
  'runtime'?: (string);
  'code'?: (_envoy_config_core_v3_AsyncDataSource | null);
  'configuration'?: (_google_protobuf_Any | null);
  'allow_precompiled'?: (boolean);
  'nack_on_code_cache_miss'?: (boolean);
  'environment_variables'?: (_envoy_extensions_wasm_v3_EnvironmentVariables | null);
}

export interface VmConfig__Output {
  'vm_id': (string);
  'runtime': (string);
  'code': (_envoy_config_core_v3_AsyncDataSource__Output | null);
  'configuration': (_google_protobuf_Any__Output | null);
  'allow_precompiled': (boolean);
  'nack_on_code_cache_miss': (boolean);
  'environment_variables': (_envoy_extensions_wasm_v3_EnvironmentVariables__Output | null);
}
