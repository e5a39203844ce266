// Original file: /work/main/protos/envoy/config/metrics/v3/metrics_service.proto

import type { GrpcService as _envoy_config_core_v3_GrpcService, GrpcService__Output as _envoy_config_core_v3_GrpcService__Output } from '../../../../envoy/config/core/v3/GrpcService';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../google/protobuf/BoolValue';
import type { ApiVersion as _envoy_config_core_v3_ApiVersion, ApiVersion__Output as _envoy_config_core_v3_ApiVersion__Output } from '../../../../envoy/config/core/v3/ApiVersion';
import type { HistogramEmitMode as _envoy_config_metrics_v3_HistogramEmitMode, HistogramEmitMode__Output as _envoy_config_metrics_v3_HistogramEmitMode__Output } from '../../../../envoy/config/metrics/v3/HistogramEmitMode';

export interface MetricsServiceConfig {
  'grpc_service'?: (_envoy_config_core_v3_GrpcService | null);
  'report_counters_as_deltas'?: (_google_protobuf_BoolValue | null);
  'transport_api_version'?: (_envoy_config_core_v3_ApiVersion);
  'emit_tags_as_labels'?: (boolean);
  'histogram_emit_mode'?: (_envoy_config_metrics_v3_HistogramEmitMode);
}

export interface MetricsServiceConfig__Output {
  'grpc_service': (_envoy_config_core_v3_GrpcService__Output | null);
  'report_counters_as_deltas': (_google_protobuf_BoolValue__Output | null);
  'transport_api_version': (_envoy_config_core_v3_ApiVersion__Output);
  'emit_tags_as_labels': (boolean);
  'histogram_emit_mode': (_envoy_config_metrics_v3_HistogramEmitMode__Output);
}
