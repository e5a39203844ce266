// Original file: /work/main/protos/envoy/extensions/wasm/v3/wasm.proto

import type { VmConfig as _envoy_extensions_wasm_v3_VmConfig, VmConfig__Output as _envoy_extensions_wasm_v3_VmConfig__Output } from '../../../../envoy/extensions/wasm/v3/VmConfig';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../../../google/protobuf/Any';
import type { CapabilityRestrictionConfig as _envoy_extensions_wasm_v3_CapabilityRestrictionConfig, CapabilityRestrictionConfig__Output as _envoy_extensions_wasm_v3_CapabilityRestrictionConfig__Output } from '../../../../envoy/extensions/wasm/v3/CapabilityRestrictionConfig';
import type { FailurePolicy as _envoy_extensions_wasm_v3_FailurePolicy, FailurePolicy__Output as _envoy_extensions_wasm_v3_FailurePolicy__Output } from '../../../../envoy/extensions/wasm/v3/FailurePolicy';
import type { ReloadConfig as _envoy_extensions_wasm_v3_ReloadConfig, ReloadConfig__Output as _envoy_extensions_wasm_v3_ReloadConfig__Output } from '../../../../envoy/extensions/wasm/v3/ReloadConfig';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../google/protobuf/BoolValue';

export interface PluginConfig {
  'name'?: (string);
  'root_id'?: (string);
  'vm_config'?: (_envoy_extensions_wasm_v3_VmConfig | null);
  'configuration'?: (_google_protobuf_Any | null);
  'fail_open'?: (boolean);
  'capability_restriction_config'?: (_envoy_extensions_wasm_v3_CapabilityRestrictionConfig | null);
  'failure_policy'?: (_envoy_extensions_wasm_v3_FailurePolicy);
  'reload_config'?: (_envoy_extensions_wasm_v3_ReloadConfig | null);
  'allow_on_headers_stop_iteration'?: (_google_protobuf_BoolValue | null);
  'vm'?: "vm_config";
}

export interface PluginConfig__Output {
  'name': (string);
  'root_id': (string);
  'vm_config'?: (_envoy_extensions_wasm_v3_VmConfig__Output | null);
  'configuration': (_google_protobuf_Any__Output | null);
  'fail_open': (boolean);
  'capability_restriction_config': (_envoy_extensions_wasm_v3_CapabilityRestrictionConfig__Output | null);
  'failure_policy': (_envoy_extensions_wasm_v3_FailurePolicy__Output);
  'reload_config': (_envoy_extensions_wasm_v3_ReloadConfig__Output | null);
  'allow_on_headers_stop_iteration': (_google_protobuf_BoolValue__Output | null);
  'vm'?: "vm_config";
}
