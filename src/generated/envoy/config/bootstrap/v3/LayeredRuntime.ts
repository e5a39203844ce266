// Original file: /work/main/protos/envoy/config/bootstrap/v3/bootstrap.proto

import type { RuntimeLayer as _envoy_config_bootstrap_v3_RuntimeLayer, RuntimeLayer__Output as _envoy_config_bootstrap_v3_RuntimeLayer__Output } from '../../../../envoy/config/bootstrap/v3/RuntimeLayer';

export interface LayeredRuntime {
  'layers'?: (_envoy_config_bootstrap_v3_RuntimeLayer)[];
}

export interface LayeredRuntime__Output {
  'layers': (_envoy_config_bootstrap_v3_RuntimeLayer__Output)[];
}
